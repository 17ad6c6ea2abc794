Feature: boundary-blocks-named-role: a permissions boundary caps the role
  access_policies_boundaries.html: the boundary must also allow; this one has no kms action.

  Scenario: the app role has a permissions boundary attached
    Given I have aws_iam_role defined
    When its name is bnd-app
    Then it must contain permissions_boundary
    And its value must match the ".*boundary.*" regex

  Scenario: the boundary allows no KMS action
    Given I have aws_iam_policy defined
    When its name is bnd-app-boundary
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And its value must not match the "kms:.*" regex
