/** Recognises the IAM principal names a key policy may hold: account IDs and IAM or STS ARNs. */

/** IAM User Guide "IAM identifiers" § "AWS account ID": twelve digits. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/

// IAM User Guide "IAM identifiers" § "IAM ARNs": arn:partition:iam::account:root|user/…|role/…
// and arn:partition:sts::account:assumed-role/role-name/session-name. Names use [\w+=,.@-]; paths
// add '/'. No '*' or '?': "AWS JSON policy elements: Principal" forbids wildcards in a principal.
const IAM_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:root|(?:user|role)\/[\w+=,.@/-]+)$/
const STS_ARN = /^arn:aws(?:-cn|-us-gov)?:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+$/

/** The parts of a principal ARN. */
export interface PrincipalArn {
  readonly partition: string
  readonly service: 'iam' | 'sts'
  readonly account: string
  /** `root`, `user/…`, `role/…` or `assumed-role/role-name/session-name`. */
  readonly resource: string
}

/** The parts of `text` when it is an IAM user, role or root ARN or an STS assumed-role ARN. */
export function parsePrincipalArn(text: string): PrincipalArn | undefined {
  if (!IAM_ARN.test(text) && !STS_ARN.test(text)) return undefined
  // Both patterns admit no ':' after the account, so the six fields split cleanly.
  const [, partition, service, , account, resource] = text.split(':') as [
    string,
    string,
    'iam' | 'sts',
    string,
    string,
    string,
  ]
  return { partition, service, account, resource }
}

/** The root principal ARN of `account`: "the account itself" in a key policy. */
export function accountRootArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:root`
}
