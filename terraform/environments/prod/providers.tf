provider "aws" {
  region = var.region

  # Only for offline checks (tools/terraform/plan-offline.sh): fake credentials, no AWS API calls.
  skip_credentials_validation = var.skip_aws_api_checks
  skip_requesting_account_id  = var.skip_aws_api_checks
  skip_metadata_api_check     = var.skip_aws_api_checks

  default_tags {
    tags = merge({
      Project     = var.name_prefix
      Environment = var.environment
      ManagedBy   = "terraform"
    }, var.tags)
  }
}
