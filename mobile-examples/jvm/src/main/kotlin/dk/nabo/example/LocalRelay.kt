package dk.nabo.example

import java.io.File
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Files

/**
 * A real `nabo-server --demo` as a child process on a free port with its own data directory;
 * [stop] and [start] keep the port and the data, like a relay that goes away and comes back.
 * The binary is `$NABO_SERVER_BIN`, else the workspace's target/debug or target/release build.
 */
class LocalRelay(val password: String = "demo-password-1234") : AutoCloseable {
    private val port = ServerSocket(0).use { it.localPort }
    private val dataDir: File = Files.createTempDirectory("nabo-relay").toFile()
    private var process: Process? = null
    val url = "http://127.0.0.1:$port"

    fun start(): LocalRelay {
        check(process == null) { "already running" }
        val pb = ProcessBuilder(binary(), "--demo", "--listen", "127.0.0.1:$port", "--data-dir", dataDir.path)
        pb.environment()["NABO_DEMO_PASSWORD"] = password
        pb.redirectErrorStream(true).redirectOutput(File(dataDir, "relay.log").also { it.appendText("") }.let { ProcessBuilder.Redirect.appendTo(it) })
        process = pb.start()
        val deadline = System.nanoTime() + 60_000_000_000L
        while (System.nanoTime() < deadline) {
            check(process!!.isAlive) { "the relay exited: " + File(dataDir, "relay.log").readText().takeLast(2000) }
            if (healthy()) return this
            Thread.sleep(100)
        }
        error("the relay did not start")
    }

    /** Stops the relay (SIGTERM: it flushes and closes connections). */
    fun stop() {
        process?.let {
            it.destroy()
            it.waitFor()
        }
        process = null
    }

    override fun close() {
        stop()
        dataDir.deleteRecursively()
    }

    private fun healthy(): Boolean = try {
        val c = URI("$url/healthz").toURL().openConnection() as HttpURLConnection
        c.connectTimeout = 500
        c.readTimeout = 500
        c.responseCode == 200
    } catch (e: java.io.IOException) {
        false
    }

    /** Central staff's one-time enrolment code for a demo user (e.g. `u-volunteer1`). */
    fun enrolmentCode(userId: String): String {
        val token = Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"")
            .find(post("/api/v1/auth/login", """{"username":"central","password":"$password"}""", null))!!
            .groupValues[1]
        return Regex("\"code\"\\s*:\\s*\"([^\"]+)\"")
            .find(post("/api/v1/enrolments", """{"user_id":"$userId"}""", token))!!
            .groupValues[1]
    }

    private fun post(path: String, json: String, token: String?): String {
        val c = URI("$url$path").toURL().openConnection() as HttpURLConnection
        c.requestMethod = "POST"
        c.doOutput = true
        c.setRequestProperty("Content-Type", "application/json")
        token?.let { c.setRequestProperty("Authorization", "Bearer $it") }
        c.outputStream.use { it.write(json.toByteArray()) }
        check(c.responseCode in 200..299) { "POST $path answered ${c.responseCode}" }
        return c.inputStream.bufferedReader().readText()
    }

    companion object {
        fun binary(): String {
            System.getenv("NABO_SERVER_BIN")?.let { return it }
            var dir: File? = File("").absoluteFile
            while (dir != null) {
                for (p in listOf("target/debug/nabo-server", "target/release/nabo-server")) {
                    val f = File(dir, p)
                    if (f.canExecute()) return f.path
                }
                dir = dir.parentFile
            }
            error("nabo-server not found: build it with `cargo build -p nabo-server` or set NABO_SERVER_BIN")
        }
    }
}
