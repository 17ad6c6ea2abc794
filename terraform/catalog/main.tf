# The whole catalog (or any selection of it) in one apply, to overlap the provider's waits.
# kmslab writes the scenarios variable from the scenario files (`kmslab scenarios tfvars`);
# provider settings are variables so the same module targets the lab, LocalStack or AWS.
terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0, < 6.0" }
  }
}

variable "scenarios" {
  description = "Scenario id => { setup_json, prefix }."
  type        = map(object({ setup_json = string, prefix = string }))
}

variable "endpoint" {
  description = "AWS-compatible endpoint (the lab or LocalStack); null for real AWS."
  type        = string
  default     = null
}

variable "account_ids" {
  description = "The three accounts (lab: operator access key id = account id)."
  type        = list(string)
  default     = ["111111111111", "222222222222", "333333333333"]
}

variable "operator_secret" {
  description = "Lab operator secret (any value outside room mode); kmslab passes it as TF_VAR_operator_secret."
  type        = string
  default     = "kmslab"
  sensitive   = true
}

variable "regions" {
  type    = list(string)
  default = ["us-east-1", "us-west-2"]
}

variable "profiles" {
  description = "Real AWS: one named profile per account (same order as account_ids). Empty for the lab."
  type        = list(string)
  default     = []
}

locals {
  lab      = var.endpoint != null
  services = ["kms", "iam", "sts", "ec2", "organizations", "cloudtrail", "cloudwatchlogs", "s3"]
}

provider "aws" {
  alias                       = "a0"
  region                      = var.regions[0]
  access_key                  = local.lab ? var.account_ids[0] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[0]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

provider "aws" {
  alias                       = "a0_r2"
  region                      = var.regions[1]
  access_key                  = local.lab ? var.account_ids[0] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[0]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

provider "aws" {
  alias                       = "a1"
  region                      = var.regions[0]
  access_key                  = local.lab ? var.account_ids[1] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[1]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

provider "aws" {
  alias                       = "a1_r2"
  region                      = var.regions[1]
  access_key                  = local.lab ? var.account_ids[1] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[1]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

provider "aws" {
  alias                       = "a2"
  region                      = var.regions[0]
  access_key                  = local.lab ? var.account_ids[2] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[2]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

provider "aws" {
  alias                       = "a2_r2"
  region                      = var.regions[1]
  access_key                  = local.lab ? var.account_ids[2] : null
  secret_key                  = local.lab ? var.operator_secret : null
  profile                     = local.lab || length(var.profiles) == 0 ? null : var.profiles[2]
  skip_credentials_validation = local.lab
  skip_requesting_account_id  = local.lab
  skip_metadata_api_check     = local.lab
  skip_region_validation      = local.lab
  s3_use_path_style           = local.lab
  dynamic "endpoints" {
    for_each = local.lab ? [1] : []
    content {
      kms            = var.endpoint
      iam            = var.endpoint
      sts            = var.endpoint
      ec2            = var.endpoint
      organizations  = var.endpoint
      cloudtrail     = var.endpoint
      cloudwatchlogs = var.endpoint
      s3             = var.endpoint
    }
  }
}

module "scenario" {
  source      = "../modules/scenario"
  for_each    = var.scenarios
  setup_json  = each.value.setup_json
  prefix      = each.value.prefix
  account_ids = var.account_ids
  regions     = var.regions
  providers = {
    aws.a0    = aws.a0
    aws.a0_r2 = aws.a0_r2
    aws.a1    = aws.a1
    aws.a1_r2 = aws.a1_r2
    aws.a2    = aws.a2
    aws.a2_r2 = aws.a2_r2
  }
}

output "scenarios" {
  description = "Scenario id => what was created (keys, principals, grants, endpoints, aliases)."
  value = {
    for id, m in module.scenario : id => {
      keys = m.keys, principals = m.principals, grants = m.grants, vpce_ids = m.vpce_ids, aliases = m.aliases
    }
  }
  sensitive = true
}
