package dk.nabo.app.android

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.IOException
import java.security.KeyStore
import java.security.SecureRandom
import java.util.Base64
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The local store's key: 32 random bytes made once, kept in SharedPreferences wrapped with
 * AES-256-GCM by a non-exportable key in the Android Keystore. The raw key is only in memory
 * while the client opens.
 */
class KeyStoreKey(context: Context) {
    private val prefs = context.getSharedPreferences(PREFS, Context.MODE_PRIVATE)

    /** The store key, made on first use. Blocking (Keystore I/O): call it off the main thread. */
    fun get(): ByteArray {
        val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
        val wrapping = keyStore.getKey(ALIAS, null) as SecretKey?
        val wrapped = prefs.getString(WRAPPED, null)
        val iv = prefs.getString(IV, null)
        if (wrapping != null && wrapped != null && iv != null) {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, wrapping, GCMParameterSpec(TAG_BITS, decode(iv)))
            return cipher.doFinal(decode(wrapped))
        }
        // First start. (Preferences copied to a new phone without the Keystore key are useless
        // there, and so is the rest: the store itself is in noBackupFilesDir.)
        val key = ByteArray(KEY_BYTES).also(SecureRandom()::nextBytes)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrapping ?: newWrappingKey())
        val sealed = cipher.doFinal(key)
        val saved = prefs.edit().putString(IV, encode(cipher.iv)).putString(WRAPPED, encode(sealed)).commit()
        if (!saved) throw IOException("cannot save the wrapped store key")
        return key
    }

    private fun newWrappingKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER).run {
            init(spec)
            generateKey()
        }
    }

    private fun encode(bytes: ByteArray): String = Base64.getEncoder().encodeToString(bytes)

    private fun decode(text: String): ByteArray = Base64.getDecoder().decode(text)

    private companion object {
        const val PROVIDER = "AndroidKeyStore"
        const val ALIAS = "nabo-store-key-wrapping"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BITS = 128
        const val KEY_BYTES = 32
        const val PREFS = "nabo-store-key"
        const val WRAPPED = "wrapped"
        const val IV = "iv"
    }
}
