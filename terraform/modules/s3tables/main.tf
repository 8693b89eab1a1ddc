locals {
  table_bucket_name = coalesce(var.table_bucket_name, "${var.name_prefix}-${var.environment}-tables")
}

resource "aws_s3tables_table_bucket" "this" {
  name = local.table_bucket_name

  encryption_configuration = {
    sse_algorithm = "aws:kms"
    kms_key_arn   = var.kms_key_arn
  }

  maintenance_configuration = {
    iceberg_unreferenced_file_removal = {
      status = var.unreferenced_file_removal_enabled ? "enabled" : "disabled"
      settings = {
        unreferenced_days = var.unreferenced_days
        non_current_days  = var.non_current_days
      }
    }
  }
}

resource "aws_s3tables_namespace" "this" {
  for_each = toset(var.namespaces)

  namespace        = each.value
  table_bucket_arn = aws_s3tables_table_bucket.this.arn
}
