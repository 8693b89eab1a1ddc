output "stack" {
  description = "Every output of modules/stack (its README lists them): terraform output -json stack."
  value       = module.stack
}
