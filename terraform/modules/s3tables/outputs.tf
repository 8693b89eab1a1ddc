output "table_bucket_name" {
  description = "Name of the S3 table bucket."
  value       = aws_s3tables_table_bucket.this.name
}

output "table_bucket_arn" {
  description = "ARN of the S3 table bucket."
  value       = aws_s3tables_table_bucket.this.arn
}

output "namespaces" {
  description = "Namespaces created in the table bucket."
  value       = sort([for n in aws_s3tables_namespace.this : n.namespace])
}

output "glue_catalog_id" {
  description = "Glue Data Catalog id of the table bucket once integrated with AWS analytics services (<account>:s3tablescatalog/<bucket>): the Spark GlueCatalog glue.id and Lake Formation catalog_id."
  value       = "${var.account_id}:s3tablescatalog/${aws_s3tables_table_bucket.this.name}"
}

output "table_arn_pattern" {
  description = "ARN pattern of every table in the bucket (for IAM policies)."
  value       = "${aws_s3tables_table_bucket.this.arn}/table/*"
}

output "maintenance_configuration" {
  description = "The table bucket's maintenance configuration (unreferenced-file removal; compaction and snapshot settings are per table, set by the maintenance job)."
  value       = aws_s3tables_table_bucket.this.maintenance_configuration
}
