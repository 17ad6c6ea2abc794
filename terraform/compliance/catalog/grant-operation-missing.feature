Feature: grant-operation-missing: the grant lacks the called operation
  grants.html#terms-grant-operations: a grant allows only the operations it lists; the call is Decrypt.

  Scenario: the app's grant does not list Decrypt
    Given I have aws_kms_grant defined
    When its address metadata has "module.scenario..grant.operation.missing.*" regex
    Then it must contain operations
    And its value must not match the "Decrypt" regex

  Scenario: the grant names the app role
    Given I have aws_kms_grant defined
    When its address metadata has "module.scenario..grant.operation.missing.*" regex
    Then it must contain grantee_principal
    And its value must match the ".*role.grt.app$" regex
