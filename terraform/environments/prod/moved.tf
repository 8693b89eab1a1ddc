# The modules moved into modules/stack: existing state follows them instead of being destroyed and recreated.
moved {
  from = module.datasets
  to   = module.stack.module.datasets
}

moved {
  from = module.storage
  to   = module.stack.module.storage
}

moved {
  from = module.s3tables
  to   = module.stack.module.s3tables
}

moved {
  from = module.catalog
  to   = module.stack.module.catalog
}

moved {
  from = module.glue_jobs
  to   = module.stack.module.glue_jobs
}

moved {
  from = module.pipeline
  to   = module.stack.module.pipeline
}

moved {
  from = module.trigger
  to   = module.stack.module.trigger
}

moved {
  from = module.athena
  to   = module.stack.module.athena
}

# Lake Formation's account-wide settings moved out of the environment stack into environments/account
# (modules/lakeformation_account). Forget them without destroying: the provider's delete would put
# empty settings, emptying the account's admin list. Import them into environments/account instead.
removed {
  from = module.stack.module.catalog.aws_lakeformation_data_lake_settings.this

  lifecycle {
    destroy = false
  }
}
