Feature: principal-role-not-listed: the key policy lacks the calling role
  key-policies.html: without the account root statement only principals the key policy names
  may use the key, so the app role must be absent from every Principal.

  Scenario: no statement names the app role
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..principal-role-not-listed.*" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Principal
    And it must contain AWS
    And its value must not match the ".*role/miss-app$" regex

  Scenario: no statement enables IAM for the account
    Given I have aws_kms_key defined
    When its address metadata has "module.scenario..principal-role-not-listed.*" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Principal
    And it must contain AWS
    And its value must not match the ".*:root$" regex
