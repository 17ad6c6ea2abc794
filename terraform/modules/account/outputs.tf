output "keys" {
  description = "Key name => ARN, id, account, region."
  value = merge(
    { for n, k in aws_kms_key.this : n => { arn = k.arn, id = k.key_id, account = var.account_id, region = var.region } },
    { for n, k in aws_kms_external_key.this : n => { arn = k.arn, id = k.id, account = var.account_id, region = var.region } },
    { for n, k in aws_kms_replica_key.this : n => { arn = k.arn, id = k.key_id, account = var.account_id, region = var.region } },
  )
}

output "key_arns" {
  description = "Primary keys only, name => ARN (input of the other instances)."
  value = merge(
    { for n, k in aws_kms_key.this : n => k.arn },
    { for n, k in aws_kms_external_key.this : n => k.arn },
  )
}

output "principals" {
  value = merge(
    { for n, r in aws_iam_role.this : n => { arn = r.arn, name = r.name, unique_id = r.unique_id, account = var.account_id, type = "role" } },
    { for n, u in aws_iam_user.this : n => { arn = u.arn, name = u.name, unique_id = u.unique_id, account = var.account_id, type = "user" } },
  )
}

output "principal_arns" {
  value = merge(
    { for n, r in aws_iam_role.this : n => r.arn },
    { for n, u in aws_iam_user.this : n => u.arn },
  )
}

output "grants" {
  value     = { for n, g in aws_kms_grant.this : n => { id = g.grant_id, token = g.grant_token } }
  sensitive = true
}

output "vpce_ids" {
  value = { for n, e in aws_vpc_endpoint.this : n => e.id }
}

output "aliases" {
  value = { for n, a in aws_kms_alias.this : n => { name = a.name, arn = a.arn } }
}
