import Foundation
import Security

/// The local store's key: 32 random bytes made once with SecRandomCopyBytes and kept in the
/// Keychain as a generic password, readable after the first unlock, never leaving this device
/// (not in backups, not in iCloud Keychain).
enum KeychainKey {
    struct Failure: Error {
        let status: OSStatus
    }

    private static let service = "dk.nabo.app.store-key"
    private static let account = "nabo-store"

    /// The store key, made on first use.
    static func storeKey() throws -> Data {
        if let key = try read() {
            return key
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        let random = SecRandomCopyBytes(kSecRandomDefault, bytes.count, &bytes)
        guard random == errSecSuccess else { throw Failure(status: random) }
        let key = Data(bytes)
        var item = query
        item[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        item[kSecValueData as String] = key
        let status = SecItemAdd(item as CFDictionary, nil)
        guard status == errSecSuccess else { throw Failure(status: status) }
        return key
    }

    private static var query: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
    }

    private static func read() throws -> Data? {
        var lookup = query
        lookup[kSecReturnData as String] = true
        lookup[kSecMatchLimit as String] = kSecMatchLimitOne
        var result: CFTypeRef?
        let status = SecItemCopyMatching(lookup as CFDictionary, &result)
        switch status {
        case errSecSuccess: return result as? Data
        case errSecItemNotFound: return nil
        default: throw Failure(status: status)
        }
    }
}
