import * as Y from 'yjs';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

// Writes the updates stock Yjs makes for a range of edits to
// server/tests/yjs-updates/NNN.bin, which `server/tests/yjs_updates.rs`
// runs through the server's update screen. Run from tests/: node interop/yjs-updates.mjs
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../server/tests/yjs-updates');
const doc = new Y.Doc();
const out = [];
doc.on('update', (u) => out.push(Buffer.from(u)));
const notes = doc.getMap('notes');
const n = new Y.Map();
notes.set('n1', n);
const t = new Y.Text();
n.set('text', t);
n.set('lane', 'good');
n.set('x', 1.5); n.set('votes', 3); n.set('big', 2**40); n.set('arr', [1, 'a', {b: true}]);
for (let i = 0; i < 20; i++) t.insert(0, 'é');
t.insert(5, '😀 emoji');
t.delete(2, 4);
t.format(0, 3, {bold: true});
t.insertEmbed(1, {image: 'x.png'});
const xt = new Y.XmlText('xml text');
n.set('nested', {a: [1, 2, {b: [null, 3.25, -7, 'x']}], bytes: new Uint8Array([1, 2])});
notes.delete('n1');
const arr = doc.getArray('order'); arr.insert(0, ['a', 'b', 'c']); arr.delete(1, 1);
const x = doc.getXmlFragment('xml');
const p = new Y.XmlElement('p');
x.insert(0, [p]);
p.insert(0, [xt]);
p.setAttribute('class', 'lead');
// The whole state (a sync step 2), and ten updates merged into one.
out.push(Buffer.from(Y.encodeStateAsUpdate(doc)));
out.push(Buffer.from(Y.mergeUpdates(out.slice(0, 10))));
out.forEach((u, i) => fs.writeFileSync(`${outDir}/${String(i).padStart(3, '0')}.bin`, u));
console.log(out.length);
