provider "aws" {
  region = local.region

  default_tags {
    tags = merge({
      Project     = "lakepipe"
      Environment = local.environment
      ManagedBy   = "terraform"
    }, local.tags)
  }
}
