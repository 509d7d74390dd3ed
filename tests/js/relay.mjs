// A stock automerge-repo relay (Node), the reference for the relay benchmark: the Repo with
// the WebSocket server adapter and the Node filesystem storage, as the automerge-repo
// sync-server does it. No authentication (the stock server has none).
//
//   node relay.mjs <port> <storage dir>
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const [, , port, dir] = process.argv
const wss = new WebSocketServer({ port: Number(port), host: "127.0.0.1" })
new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  // Like the sync server: do not push every document to every peer.
  sharePolicy: async () => false,
})
wss.on("listening", () => console.log("ready"))
