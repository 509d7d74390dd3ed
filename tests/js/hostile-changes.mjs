// A hostile volunteer with the stock automerge-repo JavaScript client (2.5.6, from npm)
// against the relay's rules (ADR 0013). Driven by server/tests/relay/hostile_changes.rs; prints
// one JSON line.
//
//   node hostile-changes.mjs <base> <password> <registerUrl> <activityUrl>
//
// As volunteer1 it sends, each on a fresh connection, one forbidden edit per rule; each
// result has the `error` messages the relay sent for the document and whether a fresh peer
// sees the edit on the relay. volunteer2 marks attendance honestly before and after.
import { Repo, cbor } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import * as A from "@automerge/automerge"

process.on("uncaughtException", e => {
  console.error("uncaught:", e?.message ?? e)
})

const [, , base, password, regUrl, actUrl] = process.argv
const wsBase = base.replace(/^http/, "ws") + "/sync"
const sleep = ms => new Promise(r => setTimeout(r, ms))
const S = s => new A.ImmutableString(s)

async function api(path, token, init = {}) {
  const r = await fetch(`${base}${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  })
  if (!r.ok) throw new Error(`${path}: ${r.status}`)
  return r.json()
}

async function login(user) {
  const t = await api("/api/v1/auth/login", null, { method: "POST", body: JSON.stringify({ username: user, password }) })
  const me = await api("/api/v1/me", t.access_token)
  return { token: t.access_token, volunteer: me.volunteer_id }
}

// A repo whose adapter records the `error` messages the stock adapter only logs.
function online(token) {
  const adapter = new WebSocketClientAdapter(`${wsBase}?access_token=${encodeURIComponent(token)}`, 300)
  const errors = []
  const receive = adapter.receiveMessage.bind(adapter)
  adapter.receiveMessage = bytes => {
    try {
      const m = cbor.decode(new Uint8Array(bytes))
      if (m?.type === "error") errors.push(String(m.message))
    } catch {}
    return receive(bytes)
  }
  return { repo: new Repo({ network: [adapter] }), errors }
}

async function waitFor(pred, ms = 8000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await pred()) return true
    await sleep(50)
  }
  return false
}

// What a fresh peer of `token` reads from the relay.
async function onRelay(token, url, read) {
  const { repo } = online(token)
  try {
    const h = await repo.find(url)
    return read(h.doc())
  } finally {
    await repo.shutdown()
  }
}

const str = v => (v == null ? null : String(v))

// A mark other than the one the cell holds: setting a value a cell already has makes no
// change at all, so nothing would be sent (the demo seeds most cells).
const other = v => ["present", "absent", "excused"].find(m => m !== str(v))

// One forbidden edit on a fresh connection: `edit(handle)` changes the document; done when
// the relay answered with an error (or after a quiet spell).
async function attack(token, url, edit, seen) {
  const { repo, errors } = online(token)
  try {
    const h = await repo.find(url)
    await edit(h)
    await waitFor(() => errors.length > 0, 15000)
  } finally {
    await repo.shutdown()
  }
  return { errors, stored: await onRelay(token, url, seen) }
}

async function main() {
  const v1 = await login("volunteer1")
  const v2 = await login("volunteer2")
  const start = await onRelay(v1.token, regUrl, d => ({
    sessions: Object.keys(d.sessions),
    participants: Object.keys(d.participants),
    area: str(d.info?.area),
  }))
  const [s0, s1, s2] = start.sessions
  const [p0, p1, p2] = start.participants
  const out = {}

  // Honest: volunteer2 marks attendance (binds its actor to volunteer2).
  let v2actor
  {
    const k = `${s0}/${p0}`
    const { repo, errors } = online(v2.token)
    const h = await repo.find(regUrl)
    const mark = other(h.doc().attendance[k])
    h.change(d => {
      d.attendance[k] = S(mark)
    })
    await waitFor(async () => (await onRelay(v2.token, regUrl, d => str(d.attendance[k]))) === mark)
    await repo.shutdown()
    // The actor that made the mark, read from the change on the relay (the handle's own
    // actor id need not be it once the synchroniser has replaced the handle's document).
    v2actor = await onRelay(v2.token, regUrl, d =>
      A.getAllChanges(d)
        .map(A.decodeChange)
        .filter(c => c.ops.some(o => o.key === k))
        .at(-1)?.actor,
    )
    if (!v2actor) throw new Error("volunteer2's mark is not on the relay")
    out.honestBefore = { errors, mark, stored: await onRelay(v2.token, regUrl, d => str(d.attendance[k])) }
  }

  // The activity document (read-only for a volunteer).
  out.activity = await attack(
    v1.token,
    actUrl,
    h => h.change(d => {
      d.activity.name = S("Overtaget af en frivillig")
    }),
    d => str(d.activity.name),
  )

  // The register's metadata.
  out.metadata = await attack(
    v1.token,
    regUrl,
    h => h.change(d => {
      d.info.area = S("a-overtaget")
    }),
    d => str(d.info.area),
  )

  // Another volunteer's shift.
  const shiftKey = `${s1}/${v2.volunteer}`
  out.shift = await attack(
    v1.token,
    regUrl,
    h => h.change(d => {
      d.shifts[shiftKey] = { signed_up: true, cancelled: true, check_in: null, check_out: null }
    }),
    // Whether the relay has the forged shift.
    d => d.shifts[shiftKey]?.cancelled === true && d.shifts[shiftKey]?.signed_up === true,
  )
  out.shiftKey = shiftKey

  // A malformed record.
  out.malformed = await attack(
    v1.token,
    regUrl,
    h => h.change(d => {
      d.participants[p1] = 42
    }),
    d => (typeof d.participants[p1] === "number" ? 42 : "record"),
  )
  out.malformedKey = p1

  // A change note claiming to be volunteer2.
  {
    const k = `${s1}/${p2}`
    const mark = other(await onRelay(v1.token, regUrl, d => d.attendance[k]))
    out.forgedNoteMark = mark
    out.forgedNote = await attack(
      v1.token,
      regUrl,
      h => h.change(
        d => {
          d.attendance[k] = S(mark)
        },
        { message: JSON.stringify({ op: "mark-attendance", by: `volunteer:${v2.volunteer}` }) },
      ),
      d => str(d.attendance[k]),
    )
  }

  // An honest-looking mark under volunteer2's actor id.
  {
    const k = `${s2}/${p2}`
    const mark = other(await onRelay(v1.token, regUrl, d => d.attendance[k]))
    out.foreignActorMark = mark
    out.foreignActor = await attack(
      v1.token,
      regUrl,
      h => h.update(d => {
        const forged = A.change(A.clone(d, { actor: v2actor }), x => {
          x.attendance[k] = S(mark)
        })
        return A.merge(d, forged)
      }),
      d => str(d.attendance[k]),
    )
  }

  // Planting volunteer2's id (whose name the relay keeps sealed) to get its key.
  {
    const planted = v2.volunteer
    const { repo, errors } = online(v1.token)
    const h = await repo.find(regUrl)
    const today = new Date().toISOString().slice(0, 10)
    h.change(d => {
      d.participants[planted] = {
        age_band: S(String(d.participants[p0].age_band)),
        gender: null,
        resident: null,
        label: null,
        added_on: S(today),
        added_by: S(`volunteer:${v1.volunteer}`),
        recruitment: null,
        merged_into: null,
      }
    })
    await waitFor(async () => (await onRelay(v1.token, regUrl, d => d.participants[planted] != null)) || errors.length > 0)
    await repo.shutdown()
    const keys = await api(`/api/v1/documents/${regUrl.replace("automerge:", "")}/subject-keys`, v1.token)
    out.planted = {
      errors,
      stored: await onRelay(v1.token, regUrl, d => d.participants[planted] != null),
      key: Object.prototype.hasOwnProperty.call(keys.keys, planted),
    }
  }

  // Honest again, after all that.
  {
    const k = `${s0}/${p1}`
    const { repo, errors } = online(v2.token)
    const h = await repo.find(regUrl)
    const mark = other(h.doc().attendance[k])
    h.change(d => {
      d.attendance[k] = S(mark)
    })
    await waitFor(async () => (await onRelay(v2.token, regUrl, d => str(d.attendance[k]))) === mark)
    await repo.shutdown()
    out.honestAfter = { errors, mark, stored: await onRelay(v2.token, regUrl, d => str(d.attendance[k])) }
  }
  console.log(JSON.stringify(out))
  process.exit(0)
}

main().catch(e => {
  console.log(JSON.stringify({ error: String(e?.stack ?? e) }))
  process.exit(1)
})
