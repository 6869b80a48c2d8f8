/** Outbound email: one import for route handlers and services. See docs/email.md. */
export { createBackgroundMailer, deliverQuietly, mailerFor, sendInBackground, type BackgroundMailContext, type Mailer } from "./background";
export { buildLink, describeTtl, emailLink, EMAIL_LINK_PATHS, HOSTED_PAGE_PATHS, isHostedLink, type EmailLinkKind } from "./links";
export { MailError, type MailContent, type MailKind, type MailMessage, type MailTransport } from "./message";
export { mfaChangedEmail, passwordChangedEmail, passwordResetEmail, registrationAttemptEmail, verificationEmail } from "./templates";
export { createMailTransport, type MailTransportDeps } from "./transport";
