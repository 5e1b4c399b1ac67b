import _CryptoExtras
import Crypto
import Foundation
import SkylensStorage
import X509

/// Signs SNS deliveries with SignatureVersion 2 (SHA256withRSA, PKCS #1 v1.5), as SNS does, with a 2048-bit key the
/// collector creates in its data directory on first start, and a self-signed certificate for it that the
/// collector serves at `SigningCertURL`, so a standard SNS signature check (fetch the certificate, verify the
/// string to sign) accepts the messages.
///
/// The key is made (or read) on first use, not when the collector starts: most collectors never sign anything, and
/// RSA key generation is the slowest step of a start.
package struct SNSSigner: Sendable {
    private struct Material: Sendable {
        var key: _RSA.Signing.PrivateKey
        var certificatePEM: String
    }

    private let directory: String
    private let material = LockedState<Material?>(nil)

    static let keyFile = "sns-signing-key.pem"
    static let certificateFile = "sns-signing-cert.pem"

    package init(directory: String) { self.directory = directory }

    /// The certificate, PEM.
    package func certificatePEM() throws -> String { try loaded().certificatePEM }

    /// The key and certificate from the directory, created the first time.
    private func loaded() throws -> Material {
        try material.withLock { cached in
            if let cached { return cached }
            let made = try Self.load(directory)
            cached = made
            return made
        }
    }

    private static func load(_ directory: String) throws -> Material {
        let keyPath = (directory as NSString).appendingPathComponent(keyFile)
        let certificatePath = (directory as NSString).appendingPathComponent(certificateFile)
        if let keyPEM = try? String(contentsOfFile: keyPath, encoding: .utf8),
           let certificatePEM = try? String(contentsOfFile: certificatePath, encoding: .utf8) {
            return Material(key: try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM), certificatePEM: certificatePEM)
        }
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
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
        let certificatePEM = try certificate.serializeAsPEM().pemString
        // The key is written only readable by the collector's user.
        FileManager.default.createFile(atPath: keyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600])
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        return Material(key: key, certificatePEM: certificatePEM)
    }

    /// Base64 of the SHA256withRSA signature of `text`'s UTF-8 bytes.
    package func sign(_ text: String) throws -> String {
        try loaded().key.signature(for: SHA256.hash(data: Data(text.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
            .base64EncodedString()
    }
}
