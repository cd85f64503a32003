#!/usr/bin/env bash
# GitLab CI: exchange the job's OIDC ID token for temporary credentials of the project's CI role and
# print them as `export` lines; a job runs `eval "$(bash scripts/assume-ci-role.sh)"`. No AWS key is
# stored anywhere: the role trusts only this project's feature-*, dev and prod branches (the token's
# sub claim) and the audience of `id_tokens` in .gitlab-ci.yml (its aud claim).
#
# Needs: GITLAB_OIDC_TOKEN (the job's id_tokens), AWS_CI_ROLE_ARN, AWS_REGION (CI/CD variables set when
# the project was created), CI_PROJECT_ID and CI_JOB_ID (GitLab's). Installs the AWS CLI (in its own
# virtual environment, so it never changes the job's packages) when `aws` is not on PATH.
set -euo pipefail
: "${GITLAB_OIDC_TOKEN:?the job needs id_tokens: GITLAB_OIDC_TOKEN}" "${AWS_CI_ROLE_ARN:?set AWS_CI_ROLE_ARN}"
: "${AWS_REGION:?set AWS_REGION}"

if ! command -v aws > /dev/null; then
  python -m venv /tmp/aws-cli >&2
  /tmp/aws-cli/bin/pip install --quiet --disable-pip-version-check awscli >&2
  PATH="/tmp/aws-cli/bin:$PATH"
fi

read -r key_id secret_key session_token < <(
  aws sts assume-role-with-web-identity \
    --region "$AWS_REGION" \
    --role-arn "$AWS_CI_ROLE_ARN" \
    --role-session-name "gitlab-${CI_PROJECT_ID:-project}-${CI_JOB_ID:-job}" \
    --web-identity-token "$GITLAB_OIDC_TOKEN" \
    --duration-seconds 3600 \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \
    --output text
)
: "${session_token:?aws sts assume-role-with-web-identity answered no credentials}"
printf 'export %s=%q\n' \
  AWS_ACCESS_KEY_ID "$key_id" \
  AWS_SECRET_ACCESS_KEY "$secret_key" \
  AWS_SESSION_TOKEN "$session_token" \
  AWS_DEFAULT_REGION "$AWS_REGION"
