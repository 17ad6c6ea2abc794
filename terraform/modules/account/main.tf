# Everything of one scenario that lives in one account and region. The provider passed in
# decides the account and region; kmslab instantiates this module once per pair.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0, < 6.0" }
  }
}

locals {
  accounts = var.setup.accounts
  home     = var.region == var.setup.region
  mine     = { for n, id in local.accounts : n => id if id == var.account_id }

  principals = { for n, p in var.setup.principals : n => p if local.home && contains(keys(local.mine), p.account) }
  roles      = { for n, p in local.principals : n => p if p.type == "role" }
  users      = { for n, p in local.principals : n => p if p.type == "user" }

  keys = {
    for n, k in var.setup.keys : n => k
    if contains(keys(local.mine), k.account) && k.region == var.region && k.origin != "EXTERNAL"
  }
  external_keys = {
    for n, k in var.setup.keys : n => k
    if contains(keys(local.mine), k.account) && k.region == var.region && k.origin == "EXTERNAL"
  }
  replicas = merge([
    for n, k in var.setup.keys : {
      for r, rep in try(k.replicas, {}) : "${n}_${replace(r, "-", "_")}" => merge(rep, { primary = n })
      if r == var.region
    } if contains(keys(local.mine), k.account)
  ]...)

  # References a policy may hold, as HCL template variables: $${key.data.arn} and so on.
  # Three layers, so nothing waits on itself: key policies and boundaries see accounts and
  # principals; grants and endpoint policies also keys; identity policies also endpoints.
  refs_static = {
    account = local.accounts
    region  = var.setup.region
    principal = {
      for n, p in var.setup.principals : n => {
        arn  = "arn:aws:iam::${local.accounts[p.account]}:${p.type}${p.path}${var.prefix}${p.name}"
        name = "${var.prefix}${p.name}"
      }
    }
  }
  refs_keys = merge(local.refs_static, {
    key = { for n, arn in var.key_arns : n => { arn = arn, id = element(split("/", arn), 1) } }
  })
  refs = merge(local.refs_keys, {
    vpce = { for n, id in var.vpce_ids : n => { id = id } }
  })

  key_policies = {
    for n, k in merge(local.keys, local.external_keys) : n => templatestring(k.policy_json, local.refs_static)
  }

  inline_policies = merge([
    for n, p in local.principals : {
      for i, doc in p.policies_json : "${n}/${i}" => { principal = n, type = p.type, doc = doc, index = i }
    }
  ]...)
  managed_policies = merge([
    for n, p in local.principals : {
      for i, doc in p.managed_policies_json : "${n}/${i}" => { principal = n, type = p.type, doc = doc, index = i }
    }
  ]...)
  boundaries = { for n, p in local.principals : n => p if try(p.boundary_json, null) != null }

  aliases = {
    for a in var.setup.aliases : a.name => a
    if contains(keys(local.keys), a.key) || contains(keys(local.external_keys), a.key)
  }
  grants = {
    for g in var.setup.grants : g.name => g
    if contains(keys(local.keys), g.key) && local.accounts[g.account] == var.account_id
  }
  vpc_endpoints = {
    for n, e in var.setup.vpc_endpoints : n => e
    if local.accounts[e.account] == var.account_id && e.region == var.region
  }
}

# -- principals -------------------------------------------------------------------------

resource "aws_iam_policy" "boundary" {
  for_each = local.boundaries
  name     = "${var.prefix}${each.value.name}-boundary"
  policy   = templatestring(each.value.boundary_json, local.refs_static)
}

resource "aws_iam_role" "this" {
  for_each = local.roles
  name     = "${var.prefix}${each.value.name}"
  path     = each.value.path
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
  permissions_boundary = try(aws_iam_policy.boundary[each.key].arn, null)
}

resource "aws_iam_user" "this" {
  for_each             = local.users
  name                 = "${var.prefix}${each.value.name}"
  path                 = each.value.path
  permissions_boundary = try(aws_iam_policy.boundary[each.key].arn, null)
}

resource "aws_iam_role_policy" "inline" {
  for_each = { for k, v in local.inline_policies : k => v if v.type == "role" }
  name     = "inline-${each.value.index}"
  role     = aws_iam_role.this[each.value.principal].name
  policy   = templatestring(each.value.doc, local.refs)
}

resource "aws_iam_user_policy" "inline" {
  for_each = { for k, v in local.inline_policies : k => v if v.type == "user" }
  name     = "inline-${each.value.index}"
  user     = aws_iam_user.this[each.value.principal].name
  policy   = templatestring(each.value.doc, local.refs)
}

resource "aws_iam_policy" "managed" {
  for_each = local.managed_policies
  name     = "${var.prefix}${local.principals[each.value.principal].name}-managed-${each.value.index}"
  policy   = templatestring(each.value.doc, local.refs)
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each   = { for k, v in local.managed_policies : k => v if v.type == "role" }
  role       = aws_iam_role.this[each.value.principal].name
  policy_arn = aws_iam_policy.managed[each.key].arn
}

resource "aws_iam_user_policy_attachment" "managed" {
  for_each   = { for k, v in local.managed_policies : k => v if v.type == "user" }
  user       = aws_iam_user.this[each.value.principal].name
  policy_arn = aws_iam_policy.managed[each.key].arn
}

# -- keys -------------------------------------------------------------------------------

# AWS rejects a key policy naming a principal that does not exist yet, and the principals
# may live in another instance of this module: keys wait for all of them. Policies use ARNs
# computed from the data, so a plan shows them in full (terraform-compliance reads them).
resource "terraform_data" "principals_ready" {
  input = var.principal_arns
}

resource "aws_kms_key" "this" {
  depends_on                         = [terraform_data.principals_ready]
  for_each                           = local.keys
  description                        = try(each.value.description, "kmslab ${each.key}")
  customer_master_key_spec           = each.value.spec
  key_usage                          = each.value.usage
  multi_region                       = each.value.multi_region
  is_enabled                         = each.value.is_enabled
  enable_key_rotation                = try(each.value.rotation, false)
  deletion_window_in_days            = try(each.value.deletion_window_days, 7)
  bypass_policy_lockout_safety_check = true
  policy                             = local.key_policies[each.key]
}

resource "aws_kms_external_key" "this" {
  depends_on                         = [terraform_data.principals_ready]
  for_each                           = local.external_keys
  description                        = try(each.value.description, "kmslab ${each.key}")
  key_material_base64                = each.value.material_base64
  enabled                            = each.value.is_enabled
  deletion_window_in_days            = try(each.value.deletion_window_days, 7)
  bypass_policy_lockout_safety_check = true
  policy                             = local.key_policies[each.key]
}

resource "aws_kms_replica_key" "this" {
  depends_on                         = [terraform_data.principals_ready]
  for_each                           = local.replicas
  primary_key_arn                    = var.key_arns[each.value.primary]
  enabled                            = try(each.value.state, "Enabled") == "Enabled"
  deletion_window_in_days            = 7
  bypass_policy_lockout_safety_check = true
  policy                             = templatestring(each.value.policy_json, local.refs_static)
}

resource "aws_kms_alias" "this" {
  for_each      = local.aliases
  name          = "alias/${var.prefix}${trimprefix(each.key, "alias/")}"
  target_key_id = try(aws_kms_key.this[each.value.key].key_id, aws_kms_external_key.this[each.value.key].id)
}

resource "aws_kms_grant" "this" {
  for_each          = local.grants
  name              = "kmslab-${each.key}"
  key_id            = aws_kms_key.this[each.value.key].arn
  grantee_principal = contains(keys(local.refs_static.principal), each.value.grantee) ? local.refs_static.principal[each.value.grantee].arn : templatestring(each.value.grantee, local.refs_keys)
  operations        = each.value.operations

  dynamic "constraints" {
    for_each = try(each.value.constraints, null) == null ? [] : [each.value.constraints]
    content {
      encryption_context_subset = try(constraints.value.EncryptionContextSubset, null)
      encryption_context_equals = try(constraints.value.EncryptionContextEquals, null)
    }
  }
}

# -- network ----------------------------------------------------------------------------

resource "aws_vpc" "this" {
  for_each   = local.vpc_endpoints
  cidr_block = "10.42.0.0/16"
}

resource "aws_vpc_endpoint" "this" {
  for_each          = local.vpc_endpoints
  vpc_id            = aws_vpc.this[each.key].id
  service_name      = "com.amazonaws.${var.region}.kms"
  vpc_endpoint_type = "Interface"
  policy            = try(templatestring(each.value.policy_json, local.refs_keys), null)
}
