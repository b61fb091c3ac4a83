//! Applies the live summary's deltas: JSON Patch (RFC 6902) add, remove and replace,
//! as the server writes them (shared/src/json_patch.rs).

export type Op =
  | { op: 'add', path: string, value: unknown }
  | { op: 'remove', path: string }
  | { op: 'replace', path: string, value: unknown }

/** Applies `ops` to `doc` in place; returns the (possibly new) root, or null when a path does not fit. */
export function applyPatch (doc: unknown, ops: Op[]): unknown {
  let root = doc
  for (const op of ops) {
    if (op.path === '') {
      if (op.op === 'remove') return null
      root = op.value
      continue
    }
    const tokens = op.path.split('/').slice(1).map(t => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    const last = tokens.pop() as string
    let parent: unknown = root
    for (const token of tokens) {
      parent = child(parent, token)
      if (parent === undefined) return null
    }
    if (Array.isArray(parent)) {
      const at = last === '-' ? parent.length : Number(last)
      if (!Number.isInteger(at) || at < 0) return null
      if (op.op === 'add') {
        if (at > parent.length) return null
        parent.splice(at, 0, op.value)
      } else {
        if (at >= parent.length) return null
        if (op.op === 'remove') parent.splice(at, 1)
        else parent[at] = op.value
      }
    } else if (parent !== null && typeof parent === 'object') {
      const record = parent as Record<string, unknown>
      if (op.op === 'add') record[last] = op.value
      else {
        if (!Object.prototype.hasOwnProperty.call(record, last)) return null
        if (op.op === 'remove') delete record[last]
        else record[last] = op.value
      }
    } else {
      return null
    }
  }
  return root
}

function child (value: unknown, token: string): unknown {
  if (Array.isArray(value)) return value[Number(token)]
  if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, token)) {
    return (value as Record<string, unknown>)[token]
  }
  return undefined
}
