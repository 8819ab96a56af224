// Test files that use the AWS SAML ACS on its fixed address, 127.0.0.1:35001 (the port the real AWS
// VPN Client uses on a user's machine). vitest.integration.config.ts runs each in a network
// namespace of its own (./own-netns-pool.ts); test/integration/host-aws-port.test.ts checks that
// every file running the AWS flow is listed here.
export const AWS_ACS_PORT_FILES = [
  'test/integration/sso-aws-saml.test.ts',
  'test/integration/sso-aws-endpoint.test.ts',
  'test/e2e/desktop-aws-saml.test.ts',
];
