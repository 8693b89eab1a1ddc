# Every service the stack uses is sent to the local endpoint (make up): fake credentials, no
# credential/metadata/region checks. The account ID is still requested (STS GetCallerIdentity, which
# the endpoint answers): without it ARNs lose their account and tags diff forever.
provider "aws" {
  region     = local.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true

  # An operation the endpoint does not implement answers 500, which the SDK retries with backoff:
  # fail fast instead of looking hung.
  max_retries = 2

  endpoints {
    athena         = var.endpoint
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    glue           = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    lakeformation  = var.endpoint
    lambda         = var.endpoint
    s3             = var.endpoint
    s3control      = var.endpoint
    s3tables       = var.endpoint
    scheduler      = var.endpoint
    sfn            = var.endpoint
    sns            = var.endpoint
    sqs            = var.endpoint
    sts            = var.endpoint
  }

  default_tags {
    tags = merge({
      Project     = "lakepipe"
      Environment = local.environment
      ManagedBy   = "terraform"
    }, local.tags)
  }
}
