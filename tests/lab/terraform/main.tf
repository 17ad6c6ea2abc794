variable "endpoint" { type = string }
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "111111111111"
  secret_key                  = "operator"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    kms           = var.endpoint
    iam           = var.endpoint
    sts           = var.endpoint
    organizations = var.endpoint
    logs          = var.endpoint
    cloudtrail    = var.endpoint
    ec2           = var.endpoint
  }
}
provider "aws" {
  alias                       = "west"
  region                      = "us-west-2"
  access_key                  = "111111111111"
  secret_key                  = "operator"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    kms = var.endpoint
    iam = var.endpoint
    sts = var.endpoint
  }
}
resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({Version="2012-10-17", Statement=[{Effect="Allow", Principal={AWS="arn:aws:iam::111111111111:root"}, Action="sts:AssumeRole"}]})
}
resource "aws_iam_user" "alice" { name = "alice" }
resource "aws_iam_policy" "kms" {
  name = "kms-use"
  policy = jsonencode({Version="2012-10-17", Statement=[{Effect="Allow", Action="kms:Decrypt", Resource="*"}]})
}
resource "aws_iam_role_policy_attachment" "a" {
  role = aws_iam_role.app.name
  policy_arn = aws_iam_policy.kms.arn
}
resource "aws_kms_key" "data" {
  description = "data"
  deletion_window_in_days = 7
  enable_key_rotation = true
  policy = jsonencode({Version="2012-10-17", Statement=[
    {Sid="Root", Effect="Allow", Principal={AWS="arn:aws:iam::111111111111:root"}, Action="kms:*", Resource="*"},
    {Sid="App", Effect="Allow", Principal={AWS=aws_iam_role.app.arn}, Action="kms:Decrypt", Resource="*"}]})
  tags = { team = "x" }
}
resource "aws_kms_alias" "data" {
  name = "alias/data"
  target_key_id = aws_kms_key.data.key_id
}
resource "aws_kms_grant" "g" {
  name = "g"
  key_id = aws_kms_key.data.key_id
  grantee_principal = aws_iam_role.app.arn
  operations = ["Decrypt", "Encrypt"]
  constraints { encryption_context_subset = { app = "x" } }
}
resource "aws_kms_external_key" "ext" {
  description = "ext"
  deletion_window_in_days = 7
  key_material_base64 = "Wblj06fduthWggmsT0cLVoIMOkeLbc2kVfMud77i/JY="
  valid_to = "2099-01-01T00:00:00Z"
}
resource "aws_kms_key" "mrk" {
  description = "mrk"
  multi_region = true
  deletion_window_in_days = 7
}
resource "aws_kms_replica_key" "west" {
  provider = aws.west
  primary_key_arn = aws_kms_key.mrk.arn
  deletion_window_in_days = 7
}
resource "aws_organizations_policy" "scp" {
  name = "deny-kms-delete"
  type = "SERVICE_CONTROL_POLICY"
  content = jsonencode({Version="2012-10-17", Statement=[{Effect="Deny", Action="kms:ScheduleKeyDeletion", Resource="*"}]})
}
resource "aws_organizations_policy_attachment" "scp" {
  policy_id = aws_organizations_policy.scp.id
  target_id = "222222222222"
}
