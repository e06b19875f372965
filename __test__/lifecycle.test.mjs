// Lifecycle of offload's children: cleanup when Node dies (even by SIGKILL), no
// leaked descriptors or zombies, coexistence with node:child_process, and Node
// exiting by itself. The harness around the parent scripts uses
// node:child_process, so a bug in offload cannot hide behind itself.
import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import childProcess from 'node:child_process'

import { spawn, execFile, pipeline } from '../index.js'
import { procStat, alive, aliveSince, pollUntil } from './lib/proc.mjs'

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const NODE = process.execPath
const cpExecFile = promisify(childProcess.execFile)

/** Polls the kernel (there is no event for another process's death) until `pid` is dead, or fails at the deadline. */
async function waitDead(pid, start, deadlineMs = 5000) {
  const end = Date.now() + deadlineMs
  while (start === undefined ? alive(pid) : aliveSince(pid, start)) {
    if (Date.now() > end) throw new Error(`pid ${pid} still alive after ${deadlineMs} ms (state ${procStat(pid)?.state})`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}


/** Zombie children of this process. */
function zombies() {
  const found = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = procStat(name)
    if (stat && stat.ppid === process.pid && stat.state === 'Z') found.push(Number(name))
  }
  return found
}

function openFds() {
  const fds = new Map()
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`))
    } catch {
      // The directory's own descriptor, closed by now.
    }
  }
  return fds
}

/** Counts descriptors by kind: pipe, socket, pidfd, other anon inodes, files. */
function fdKinds(fds) {
  const kinds = {}
  for (const target of fds.values()) {
    const kind = /^(pipe|socket):/.exec(target)?.[1] ?? /^anon_inode:\[?([^\]]+)/.exec(target)?.[1] ?? target
    kinds[kind] = (kinds[kind] ?? 0) + 1
  }
  return kinds
}

const pidfdCount = () => fdKinds(openFds()).pidfd ?? 0

const threadCount = () => fs.readdirSync('/proc/self/task').length

/** Starts a fixture parent with node:child_process and reads its first stdout line. */
async function startParent(script, args) {
  const parent = childProcess.spawn(NODE, [fixture(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  parent.stderr.on('data', (d) => (stderr += d))
  let buffered = ''
  const line = await new Promise((resolve, reject) => {
    parent.stdout.on('data', (d) => {
      buffered += d
      const nl = buffered.indexOf('\n')
      if (nl >= 0) resolve(buffered.slice(0, nl))
    })
    parent.once('exit', (code, signal) => reject(new Error(`parent exited (${code ?? signal}) before printing: ${stderr}`)))
  })
  return { parent, line }
}

describe('cleanup when Node dies', () => {
  test('kill -9 of the parent: its children (cleanup default) die too', async (t) => {
    // Also with a new process group, another user (setuid clears the parent-death
    // signal, so it must be set after), and limits.
    const sets = [{}, { cleanup: true, killTree: true }, { uid: 65534, gid: 65534 }, { limits: { nice: 5, openFiles: 64 } }]
    const { parent, line } = await startParent('proc-parent.cjs', [JSON.stringify(sets)])
    const pids = JSON.parse(line)
    const starts = pids.map((pid) => procStat(pid).start)
    t.after(() => pids.forEach((pid) => alive(pid) && process.kill(pid, 'SIGKILL')))
    for (const pid of pids) {
      assert.ok(alive(pid), `child ${pid} runs`)
      assert.equal(procStat(pid).ppid, parent.pid)
    }
    const exited = once(parent, 'exit')
    process.kill(parent.pid, 'SIGKILL')
    assert.deepEqual(await exited, [null, 'SIGKILL'])
    for (const [i, pid] of pids.entries()) await waitDead(pid, starts[i])
  })

  test('kill -9 of the parent: cleanup: false and detached: true children survive', async (t) => {
    const { parent, line } = await startParent('proc-parent.cjs', [JSON.stringify([{}, { cleanup: false }, { detached: true }])])
    const [cleaned, kept, detached] = JSON.parse(line)
    const starts = [cleaned, kept, detached].map((pid) => procStat(pid).start)
    t.after(async () => {
      for (const pid of [kept, detached]) {
        if (alive(pid)) process.kill(pid, 'SIGKILL')
      }
      await waitDead(kept)
      await waitDead(detached)
    })
    // detached: a new session and process group, led by the child.
    assert.equal(procStat(detached).session, detached)
    assert.equal(procStat(detached).pgrp, detached)
    assert.notEqual(procStat(kept).session, kept)

    process.kill(parent.pid, 'SIGKILL')
    await once(parent, 'exit')
    // The cleaned-up child's death is the reference event: the parent-death
    // signals have all been delivered by then.
    await waitDead(cleaned, starts[0])
    assert.ok(aliveSince(kept, starts[1]), 'the cleanup: false child was killed with its parent')
    assert.ok(aliveSince(detached, starts[2]), 'the detached child was killed with its parent')
    assert.notEqual(procStat(kept).ppid, parent.pid)
  })

  test('normal exit of the parent: an unref()ed child with cleanup is killed', async () => {
    const { parent, line } = await startParent('proc-keepalive.cjs', ['unref-spawned'])
    const pid = Number(/^pid (\d+)$/.exec(line)[1])
    const [code] = await once(parent, 'exit')
    assert.equal(code, 0, 'Node waited for an unref()ed child')
    await waitDead(pid)
  })

  test('killTree: timeout kills the whole process group, grandchildren included', async () => {
    const started = Date.now()
    const err = await execFile('sh', ['-c', 'sleep 1000 & echo $!; wait'], { timeout: 300, killTree: true }).catch((e) => e)
    assert.equal(err.code, 'ERR_OFFLOAD_TIMEOUT')
    const grandchild = Number(err.stdout)
    assert.ok(grandchild > 0)
    await waitDead(grandchild)
    assert.ok(Date.now() - started < 5000, 'the result waited for the grandchild')
  })
})

describe('no leaks', () => {
  test('500 spawns of every kind leak no descriptor, thread or zombie', { timeout: 60_000 }, async () => {
    const kinds = [
      async () => assert.equal((await execFile('true')).exitCode, 0),
      async () => assert.equal((await execFile('sh', ['-c', 'echo o; echo e >&2; exit 3'], { reject: false })).exitCode, 3),
      async () => assert.equal((await execFile('no-such-program-offload-test').catch((e) => e)).code, 'ENOENT'),
      async () => assert.equal((await execFile('true', [], { cwd: '/nonexistent-offload' }).catch((e) => e)).code, 'ENOENT'),
      async () => {
        const child = spawn('sleep', ['100'])
        await once(child, 'spawn')
        child.kill('SIGKILL')
        assert.equal((await child.catch((e) => e)).signal, 'SIGKILL')
      },
      async () => {
        const child = spawn('cat')
        child.stdin.end('x'.repeat(100_000))
        let n = 0
        for await (const chunk of child.stdout) n += chunk.length
        assert.equal(n, 100_000)
      },
      async () => assert.equal((await execFile('sleep', ['100'], { timeout: 5 }).catch((e) => e)).code, 'ERR_OFFLOAD_TIMEOUT'),
      async () => {
        const ac = new AbortController()
        const child = spawn('sleep', ['100'], { signal: ac.signal })
        child.once('spawn', () => ac.abort())
        assert.equal((await child.catch((e) => e)).code, 'ERR_OFFLOAD_ABORTED')
      },
      async () => {
        // EIO is the pipeline race of spawn.test.mjs ('bug: pipeline with a fast-exiting
        // first stage'); here either outcome must leave nothing behind.
        const result = await pipeline(['echo', 'a'], ['cat'], ['cat']).catch((e) => e)
        if (result.code !== 'EIO') assert.equal(result.stdout, 'a')
      },
      async () => assert.equal((await execFile('head', ['-c', '10000', '/dev/zero'], { maxBuffer: 100 }).catch((e) => e)).code, 'ERR_OFFLOAD_MAX_BUFFER'),
    ]
    const runAll = async (count) => {
      let next = 0
      const worker = async () => {
        while (next < count) {
          const i = next++
          await kinds[i % kinds.length]()
        }
      }
      await Promise.all(Array.from({ length: 8 }, worker))
    }
    // Warm up: the runtime's own threads and descriptors are created once.
    await runAll(50)
    const fdsBefore = openFds()
    const threadsBefore = threadCount()

    await runAll(500)

    await pollUntil(() => openFds().size <= fdsBefore.size, { deadlineMs: 3000, what: 'descriptors to be closed' }).catch(() => {
      const before = fdKinds(fdsBefore)
      const after = fdKinds(openFds())
      const grown = Object.keys(after).filter((k) => after[k] > (before[k] ?? 0)).map((k) => `${k}: ${before[k] ?? 0} -> ${after[k]}`)
      assert.fail(`descriptors leaked (${grown.join(', ')})`)
    })
    assert.ok(threadCount() <= threadsBefore + 2, `threads: ${threadsBefore} before, ${threadCount()} after`)
    assert.deepEqual(zombies(), [])
  })

  test('no zombie is left while waiting: each finished child is reaped at once', async () => {
    const children = Array.from({ length: 20 }, (_, i) => spawn('sh', ['-c', `exit ${i}`], { reject: false }))
    const results = await Promise.all(children)
    results.forEach((r, i) => assert.equal(r.exitCode, i))
    assert.deepEqual(zombies(), [])
  })
  test("regression: a finished child's pidfd is closed when it is reaped, not at garbage collection", async () => {
    // Each Subprocess used to hold the child's pidfd until V8 collected the
    // object, so a program that keeps its Subprocess objects (a job table, a Map
    // of runs) ran out of descriptors: with `ulimit -n 128`, 400 sequential
    // spawns failed with EMFILE.
    const before = pidfdCount()
    const kept = []
    for (let i = 0; i < 50; i++) {
      const child = spawn('true')
      kept.push(child)
      await child
    }
    await pollUntil(() => pidfdCount() <= before, { deadlineMs: 2000, what: 'pidfds to be closed' }).catch(() => {
      assert.fail(`${pidfdCount() - before} pidfds still open for 50 finished children`)
    })
    assert.equal(kept.length, 50)
  })

  test('regression: 400 sequential children under ulimit -n 128 never fail with EMFILE', async () => {
    const script = `
      const { spawn } = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
      ;(async () => {
        const kept = [], codes = {}
        for (let i = 0; i < 400; i++) {
          const child = spawn('true'); kept.push(child)
          const r = await child.catch((e) => e)
          if (r instanceof Error) codes[r.code] = (codes[r.code] ?? 0) + 1
        }
        process.stdout.write(JSON.stringify(codes))
      })()`
    const { stdout } = await cpExecFile('sh', ['-c', 'ulimit -n 128 && exec "$0" -e "$1"', NODE, script], { timeout: 30_000 })
    assert.deepEqual(JSON.parse(stdout), {})
  })
})

describe('side by side with node:child_process', () => {
  test('100 offload and 100 child_process children, interleaved and concurrent: right exit codes, no hang, no zombie', { timeout: 60_000 }, async () => {
    const jobs = []
    for (let i = 0; i < 100; i++) {
      jobs.push(
        execFile('sh', ['-c', `echo offload ${i}; exit ${i % 7}`], { reject: false }).then((r) => {
          assert.equal(r.stdout, `offload ${i}`)
          assert.equal(r.exitCode, i % 7, `offload child ${i}: its exit status was lost`)
          return 'offload'
        }),
      )
      jobs.push(
        new Promise((resolve, reject) => {
          childProcess.execFile('sh', ['-c', `echo node ${i}; exit ${i % 5}`], (err, stdout) => {
            try {
              assert.equal(stdout, `node ${i}\n`)
              assert.equal(err ? err.code : 0, i % 5, `child_process child ${i}: its exit status was lost`)
              resolve('node')
            } catch (e) {
              reject(e)
            }
          })
        }),
      )
    }
    const done = await Promise.all(jobs)
    assert.equal(done.filter((d) => d === 'offload').length, 100)
    assert.deepEqual(zombies(), [])

    // child_process's last child is gone (libuv resets SIGCHLD then): offload still works.
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => execFile('sh', ['-c', `exit ${i}`], { reject: false })))
    after.forEach((r, i) => assert.equal(r.exitCode, i))
    // And node:child_process still gets its statuses after offload ran.
    await assert.rejects(cpExecFile('sh', ['-c', 'exit 4']), { code: 4 })
    assert.deepEqual(zombies(), [])
  })

  test('a long offload child survives and is reaped while child_process children come and go', async () => {
    const long = spawn('sh', ['-c', 'read line; echo "got $line"; exit 6'], { reject: false })
    await once(long, 'spawn')
    for (let i = 0; i < 20; i++) await cpExecFile('true')
    assert.ok(alive(long.pid))
    long.stdin.end('hello\n')
    const result = await long
    assert.equal(result.stdout, 'got hello')
    assert.equal(result.exitCode, 6)
  })
})

describe('Node exits by itself', () => {
  const run = (mode) => cpExecFile(NODE, [fixture('proc-keepalive.cjs'), mode], { timeout: 20_000, killSignal: 'SIGKILL' })

  test('when all offload work is done, Node exits by itself', async () => {
    const { stdout } = await run('work')
    const [json, last] = stdout.trim().split('\n')
    assert.equal(last, 'done')
    assert.deepEqual(JSON.parse(json), ['a', 'b', 3, 'ENOENT', 'ERR_OFFLOAD_TIMEOUT', 'ERR_OFFLOAD_ABORTED', 1000000, 'c', 0])
  })

  test('a running child keeps Node alive; once it ends Node exits', async () => {
    const { stdout } = await run('ref')
    const lines = stdout.trim().split('\n')
    assert.match(lines[0], /^pid \d+$/)
    assert.equal(lines[1], 'still-alive', 'Node exited while the child ran')
    assert.equal(lines[2], 'child ended: ERR_OFFLOAD_SIGNAL SIGKILL')
  })

  test('unref() lets Node exit while the child runs', async () => {
    const { stdout } = await run('unref')
    assert.ok(!stdout.includes('still-alive'), 'an unref()ed child kept Node alive')
  })

  test('ref() after unref() keeps Node alive again', async () => {
    const { stdout } = await run('unref-ref')
    assert.deepEqual(stdout.trim().split('\n').slice(1), ['still-alive', 'child ended: ERR_OFFLOAD_SIGNAL SIGKILL'])
  })
})
