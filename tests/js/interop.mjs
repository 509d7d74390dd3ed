// The stock automerge-repo JavaScript client (2.5.6, from npm) against the Nabo relay.
// Driven by tests/tests/js_interop.rs; each command prints one JSON line.
//
//   node interop.mjs mark    <base> <user> <password> <docUrl> <key> <status>
//   node interop.mjs read    <base> <user> <password> <docUrl> <key>
//   node interop.mjs create  <base> <user> <password> <tenant> <activityId>
//   node interop.mjs offline <base> <user> <password> <docUrl> <key> <status>
//   node interop.mjs watch   <base> <user> <password> <docUrl> <key> <status>
//     (opens the document, prints {"ready":true}, then waits until the relay pushes the
//     mark to this open document: the multi-node test writes it through another node)
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import * as A from "@automerge/automerge"
import readline from "node:readline"

// The Node adapter throws an uncaught "Unexpected server response: 401" when an upgrade is
// refused; report it instead of dying.
process.on("uncaughtException", e => {
  console.error("uncaught:", e?.message ?? e)
})

const [, , cmd, base, user, password, ...rest] = process.argv
const wsBase = base.replace(/^http/, "ws") + "/sync"

async function login() {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: user, password }),
  })
  if (!r.ok) throw new Error(`login ${r.status}`)
  return (await r.json()).access_token
}

const adapter = token => new WebSocketClientAdapter(`${wsBase}?access_token=${encodeURIComponent(token)}`, 300)
const online = token => new Repo({ network: [adapter(token)] })
const sleep = ms => new Promise(r => setTimeout(r, ms))

async function waitFor(pred, what, ms = 10000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await pred()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

// What the relay has, seen by a fresh peer.
async function relayValue(token, url, key) {
  const repo = online(token)
  try {
    const h = await repo.find(url)
    const d = h.doc()
    const value = d.attendance?.[key]
    return { kind: String(d.kind), value: value == null ? null : String(value), participants: Object.keys(d.participants ?? {}).length }
  } finally {
    await repo.shutdown()
  }
}

async function main() {
  const token = await login()
  if (cmd === "read") {
    const [url, key] = rest
    console.log(JSON.stringify(await relayValue(token, url, key)))
  } else if (cmd === "mark") {
    const [url, key, status] = rest
    const repo = online(token)
    const h = await repo.find(url)
    // Nabo writes scalar strings; Automerge 3 shows them as ImmutableString.
    if (String(h.doc().kind) !== "register") throw new Error("not a register")
    h.change(d => {
      d.attendance[key] = status
    })
    // Done when a fresh peer sees it on the relay.
    await waitFor(async () => (await relayValue(token, url, key)).value === status, "the relay to have the mark")
    await repo.shutdown()
    console.log(JSON.stringify({ ok: true }))
  } else if (cmd === "create") {
    const [tenant, activity] = rest
    const repo = online(token)
    const h = repo.create({
      kind: "activity",
      schema: 1,
      tenant,
      scope: `activity/${tenant}/${activity}`,
      info: {},
      series: {}, roster: {}, challenges: {}, goals: {}, indicators: {}, measurements: {}, reports: {},
      activity: {
        name: "Fællesspisning i Engtoften (oprettet fra JavaScript)",
        programme: "p-helhedsplan",
        area: "a-engtoften",
        area_history: {},
        taxonomy: "lbf-2006-2010",
        primary_type: "SL.faellesspisning",
        secondary_types: {},
        main_activity: false,
        target_groups: { "alle-beboere": "primary" },
        methods: {},
        formats: {},
        approach: null,
        attendance_mode: "headcount",
        children_under_15: false,
        venue: null,
        status: "planned",
        start: null,
        end: null,
        controller: null,
        legal_basis: "legitimate-interest",
        retention: "grant-documentation-5y",
        purpose: "Dokumentation",
      },
    })
    await sleep(1500)
    await repo.shutdown()
    console.log(JSON.stringify({ url: h.url }))
  } else if (cmd === "offline") {
    // Load online, go offline, edit, wait for the Rust side to edit concurrently, reconnect.
    const [url, key, status] = rest
    const first = online(token)
    const h = await first.find(url)
    const bytes = A.save(h.doc())
    await first.shutdown()
    const repo = new Repo({ network: [] })
    const local = repo.import(bytes, { docId: h.documentId })
    local.change(d => {
      d.attendance[key] = status
    })
    console.log(JSON.stringify({ offline: true }))
    const rl = readline.createInterface({ input: process.stdin })
    await new Promise(resolve => rl.once("line", resolve))
    rl.close()
    repo.networkSubsystem.addNetworkAdapter(adapter(token))
    await waitFor(async () => (await relayValue(token, url, key)).value === status, "the offline edit to reach the relay")
    // And the concurrent edit made meanwhile reached this client.
    await waitFor(async () => local.doc().info?.rust_offline === true, "the Rust edit to arrive")
    await repo.shutdown()
    console.log(JSON.stringify({ merged: true }))
  } else if (cmd === "watch") {
    const [url, key, status] = rest
    const repo = online(token)
    const h = await repo.find(url)
    console.log(JSON.stringify({ ready: true }))
    const start = Date.now()
    await waitFor(async () => String(h.doc().attendance?.[key]) === status, "the mark to be pushed", 15000)
    await repo.shutdown()
    console.log(JSON.stringify({ seen: true, ms: Date.now() - start }))
  } else {
    throw new Error(`unknown command ${cmd}`)
  }
  process.exit(0)
}

main().catch(e => {
  console.log(JSON.stringify({ error: String(e?.message ?? e) }))
  process.exit(1)
})
