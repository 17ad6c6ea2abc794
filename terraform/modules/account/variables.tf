variable "setup" {
  description = "The scenario setup (normalized by kmslab; policies as JSON strings with $${...} references)."
  type        = any
}

variable "prefix" {
  description = "Prefix of every name, so many scenarios share one set of accounts."
  type        = string
  default     = ""
}

variable "account_id" {
  description = "The account this instance builds (the provider's account)."
  type        = string
}

variable "region" {
  description = "The region this instance builds (the provider's region)."
  type        = string
}

variable "key_arns" {
  description = "Key name => ARN across all accounts and regions of the scenario (for identity policies, grants and replicas)."
  type        = map(string)
  default     = {}
}

variable "principal_arns" {
  description = "Principal name => ARN of the principals already created (key policies wait for them)."
  type        = map(string)
  default     = {}
}

variable "vpce_ids" {
  description = "VPC endpoint name => id across the scenario."
  type        = map(string)
  default     = {}
}
