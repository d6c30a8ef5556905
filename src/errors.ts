// UserError: bad input (a setting, a selector, a kubeconfig, a plan file) that the operator can
// fix. Entry points print its message without a stack trace, and settings errors exit with 2.
// It lives alone so that low modules (settings, selectors) can throw it without importing the
// Kubernetes edge.
export class UserError extends Error {
  override readonly name = 'UserError';
}
