provider "aws" {
  region = var.region

  default_tags {
    tags = merge({
      Project   = "lakepipe"
      Scope     = "account"
      ManagedBy = "terraform"
    }, var.tags)
  }
}
