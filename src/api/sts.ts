/**
 * @module api/sts — the one STS call Weir answers, `GetCallerIdentity`, in STS's Query/XML format,
 * and STS's error body. `aws sts get-caller-identity` and SDK credential checks call it before
 * anything else, so it has to parse exactly as botocore's `query` parser expects.
 */
import { escapeXml } from './xml.js';

/** The STS XML namespace (STS's model states it with the trailing slash). */
export const STS_XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** The STS API version, sent by clients as `Version=2011-06-15`. */
export const STS_API_VERSION = '2011-06-15';

/** Who the caller is, as `GetCallerIdentity` reports it. */
export interface CallerIdentity {
  /** `arn:aws:iam::123456789012:user/alice` */
  readonly arn: string;
  /** The unique id of the principal, e.g. `AIDA…`. */
  readonly userId: string;
  /** The 12-digit account id. */
  readonly account: string;
}

/** Renders the XML body of a `GetCallerIdentity` response. */
export function serializeGetCallerIdentity(identity: CallerIdentity, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${STS_XML_NAMESPACE}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXml(identity.arn)}</Arn><UserId>${escapeXml(identity.userId)}</UserId>` +
    `<Account>${escapeXml(identity.account)}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata>` +
    `</GetCallerIdentityResponse>`
  );
}

/**
 * Renders an STS error body. `type` is `Sender` for the caller's fault (4xx), `Receiver` for ours
 * (5xx).
 */
export function serializeStsError(
  code: string,
  message: string,
  requestId: string,
  type: 'Sender' | 'Receiver' = 'Sender',
): string {
  return (
    `<ErrorResponse xmlns="${STS_XML_NAMESPACE}"><Error><Type>${type}</Type>` +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}
