# Local state next to the endpoint's own state (.localcloud/), so `make down` drops both: the
# endpoint keeps its resources in memory and forgets them when it stops. `make deploy-local` passes
# -backend-config=path=$(LOCALCLOUD_DIR)/terraform/terraform.tfstate; this default is the same place
# for the default LOCALCLOUD_DIR (relative to this folder).
terraform {
  backend "local" {
    path = "../../../.localcloud/terraform/terraform.tfstate"
  }
}
