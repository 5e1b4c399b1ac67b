import _CryptoExtras
import Crypto
import Foundation
import X509

/// Signs SNS deliveries with SignatureVersion 2 (SHA256withRSA, PKCS #1 v1.5), as SNS does, with a 2048-bit key the
/// collector creates in its data directory on first start, and a self-signed certificate for it that the
/// collector serves at `SigningCertURL`, so a standard SNS signature check (fetch the certificate, verify the
/// string to sign) accepts the messages.
package struct SNSSigner: Sendable {
    private let key: _RSA.Signing.PrivateKey
    /// The certificate, PEM.
    package let certificatePEM: String

    static let keyFile = "sns-signing-key.pem"
    static let certificateFile = "sns-signing-cert.pem"

    /// Loads the key and certificate from `directory`, creating them the first time.
    package init(directory: String) throws {
        let keyPath = (directory as NSString).appendingPathComponent(Self.keyFile)
        let certificatePath = (directory as NSString).appendingPathComponent(Self.certificateFile)
        if let keyPEM = try? String(contentsOfFile: keyPath, encoding: .utf8),
           let certificatePEM = try? String(contentsOfFile: certificatePath, encoding: .utf8) {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
            self.certificatePEM = certificatePEM
            return
        }
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName {
            OrganizationName("Skylens")
            CommonName("sns.skylens.local")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions {},
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString
        // The key is written only readable by the collector's user.
        FileManager.default.createFile(atPath: keyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
    }

    /// Base64 of the SHA256withRSA signature of `text`'s UTF-8 bytes.
    package func sign(_ text: String) throws -> String {
        try key.signature(for: SHA256.hash(data: Data(text.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
    }

    /// Whether `signature` (base64) signs `text` (used by tests and by `skylens` tooling).
    package func verify(_ signature: String, for text: String) -> Bool {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return key.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: raw), for: SHA256.hash(data: Data(text.utf8)),
                                              padding: .insecurePKCS1v1_5)
    }
}
