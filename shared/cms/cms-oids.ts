/** The object identifiers of the KMS envelope, as the content octets of their BER encoding (X.690 §8.19). */

const PKCS = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01] // 1.2.840.113549.1
const NIST_ALGORITHMS = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04] // 2.16.840.1.101.3.4

/** RFC 5652 §6.1 id-envelopedData, 1.2.840.113549.1.7.3. */
export const OID_ENVELOPED_DATA = Uint8Array.of(...PKCS, 0x07, 0x03)
/** RFC 5652 §4 id-data, 1.2.840.113549.1.7.1. */
export const OID_DATA = Uint8Array.of(...PKCS, 0x07, 0x01)
/** RFC 8017 Appendix A.2.1 id-RSAES-OAEP, 1.2.840.113549.1.1.7. */
export const OID_RSAES_OAEP = Uint8Array.of(...PKCS, 0x01, 0x07)
/** RFC 8017 Appendix B.2.1 id-mgf1, 1.2.840.113549.1.1.8. */
export const OID_MGF1 = Uint8Array.of(...PKCS, 0x01, 0x08)
/** RFC 8017 Appendix A.2.1 id-pSpecified, 1.2.840.113549.1.1.9. */
export const OID_P_SPECIFIED = Uint8Array.of(...PKCS, 0x01, 0x09)
/** RFC 5754 §2.2 id-sha256, 2.16.840.1.101.3.4.2.1. */
export const OID_SHA256 = Uint8Array.of(...NIST_ALGORITHMS, 0x02, 0x01)
/** RFC 3565 §4.1 id-aes256-CBC, 2.16.840.1.101.3.4.1.42. */
export const OID_AES256_CBC = Uint8Array.of(...NIST_ALGORITHMS, 0x01, 0x2a)
