# One scenario: its setup (JSON from kmslab) split over the lab's accounts and two regions.
# Provider aliases a0, a1, a2 are the three accounts in the home region; *_r2 the second region.
terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 5.0, < 6.0"
      configuration_aliases = [aws.a0, aws.a0_r2, aws.a1, aws.a1_r2, aws.a2, aws.a2_r2]
    }
  }
}

variable "setup_json" {
  description = "The scenario setup as kmslab prepares it (jsonencode'd)."
  type        = string
}

variable "prefix" {
  description = "Name prefix (empty when the scenario has the accounts to itself)."
  type        = string
  default     = ""
}

variable "account_ids" {
  description = "The three account ids behind providers a0, a1, a2."
  type        = list(string)
}

variable "regions" {
  description = "Home region and second region (providers *_r2)."
  type        = list(string)
}

locals {
  setup          = jsondecode(var.setup_json)
  key_arns       = merge(module.a0.key_arns, module.a0_r2.key_arns, module.a1.key_arns, module.a1_r2.key_arns, module.a2.key_arns, module.a2_r2.key_arns)
  principal_arns = merge(module.a0.principal_arns, module.a0_r2.principal_arns, module.a1.principal_arns, module.a1_r2.principal_arns, module.a2.principal_arns, module.a2_r2.principal_arns)
  vpce_ids       = merge(module.a0.vpce_ids, module.a0_r2.vpce_ids, module.a1.vpce_ids, module.a1_r2.vpce_ids, module.a2.vpce_ids, module.a2_r2.vpce_ids)
}

module "a0" {
  source         = "../account"
  providers      = { aws = aws.a0 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[0]
  region         = var.regions[0]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

module "a0_r2" {
  source         = "../account"
  providers      = { aws = aws.a0_r2 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[0]
  region         = var.regions[1]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

module "a1" {
  source         = "../account"
  providers      = { aws = aws.a1 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[1]
  region         = var.regions[0]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

module "a1_r2" {
  source         = "../account"
  providers      = { aws = aws.a1_r2 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[1]
  region         = var.regions[1]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

module "a2" {
  source         = "../account"
  providers      = { aws = aws.a2 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[2]
  region         = var.regions[0]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

module "a2_r2" {
  source         = "../account"
  providers      = { aws = aws.a2_r2 }
  setup          = local.setup
  prefix         = var.prefix
  account_id     = var.account_ids[2]
  region         = var.regions[1]
  key_arns       = local.key_arns
  principal_arns = local.principal_arns
  vpce_ids       = local.vpce_ids
}

output "keys" {
  value = merge(module.a0.keys, module.a0_r2.keys, module.a1.keys, module.a1_r2.keys, module.a2.keys, module.a2_r2.keys)
}

output "principals" {
  value = merge(module.a0.principals, module.a0_r2.principals, module.a1.principals, module.a1_r2.principals, module.a2.principals, module.a2_r2.principals)
}

output "grants" {
  value     = merge(module.a0.grants, module.a0_r2.grants, module.a1.grants, module.a1_r2.grants, module.a2.grants, module.a2_r2.grants)
  sensitive = true
}

output "vpce_ids" {
  value = local.vpce_ids
}

output "aliases" {
  value = merge(module.a0.aliases, module.a0_r2.aliases, module.a1.aliases, module.a1_r2.aliases, module.a2.aliases, module.a2_r2.aliases)
}
