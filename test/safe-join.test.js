// SafeJoin (security-critical): an allowed table, a denied table, and a
// property test that any string gives a path inside the root or an error
// whose message never holds the root's absolute path.
import t from 'tap';
import fc from 'fast-check';
import { mkdirSync, writeFileSync, symlinkSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { safeJoin, safeJoinDetailed, percentDecodeOnce, percentEncodeForSafeJoin } from '../dist/core/safe-join.js';
import { MediagateError } from '../dist/core/errors.js';
import { tempDir } from './helpers/proc.js';

/** base/{music (the root), music2 (a sibling sharing its prefix), outside} with links of every kind. */
function tree(t) {
  const base = realpathSync(tempDir(t, 'mg-safejoin-'));
  const root = join(base, 'music');
  mkdirSync(join(root, 'Albums', 'Kind of Blue'), { recursive: true });
  mkdirSync(join(root, '%2e%2e'));
  mkdirSync(join(base, 'music2'));
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(root, 'a.ogg'), 'a');
  writeFileSync(join(root, 'Albums', 'b.flac'), 'b');
  writeFileSync(join(root, '...'), 'dots');
  writeFileSync(join(base, 'music2', 'x.ogg'), 'x');
  writeFileSync(join(base, 'outside', 'secret.txt'), 'secret');
  symlinkSync(join(root, 'Albums'), join(root, 'link-in'));
  symlinkSync('a.ogg', join(root, 'file-in'));
  symlinkSync(join(base, 'outside'), join(root, 'esc-dir'));
  symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'esc-file'));
  symlinkSync('../music2', join(root, 'esc-sib'));
  symlinkSync(join(base, 'nowhere'), join(root, 'dangling'));
  symlinkSync('../outside', join(root, 'Albums', 'deep-esc'));
  symlinkSync(root, join(base, 'root-link')); // the configured root may itself be a link
  return { base, root };
}

t.test('percent-decoding happens exactly once', async (t) => {
  t.equal(percentDecodeOnce('%2e%2e'), '..');
  t.equal(percentDecodeOnce('%252e'), '%2e', 'a second layer stays literal');
  t.equal(percentDecodeOnce('caf%C3%A9'), 'café');
  t.equal(percentDecodeOnce('100% pure'), '100% pure', 'a lone % is literal');
  t.equal(percentDecodeOnce('no escapes'), 'no escapes');
  t.throws(() => percentDecodeOnce('%ff'), 'invalid UTF-8 is refused');
  t.equal(percentDecodeOnce(percentEncodeForSafeJoin('My%20Song.mp3')), 'My%20Song.mp3', 'encode gives back what decode takes');
});

t.test('SafeJoin: allowed', async (t) => {
  const { base, root } = tree(t);
  const cases = [
    ['', root, true, 'the root itself'],
    ['a.ogg', join(root, 'a.ogg'), true, 'a file'],
    ['Albums/b.flac', join(root, 'Albums', 'b.flac'), true, 'a nested file'],
    ['./Albums//b.flac/', join(root, 'Albums', 'b.flac'), true, '. and empty segments dropped'],
    ['Albums/Kind of Blue', join(root, 'Albums', 'Kind of Blue'), true, 'spaces'],
    ['link-in/b.flac', join(root, 'Albums', 'b.flac'), true, 'a directory link inside the root, resolved'],
    ['file-in', join(root, 'a.ogg'), true, 'a file link inside the root, resolved'],
    ['Albums/new/not-yet.ogg', join(root, 'Albums', 'new', 'not-yet.ogg'), false, 'not existing yet, under a real dir'],
    ['link-in/new.ogg', join(root, 'Albums', 'new.ogg'), false, 'not existing yet, under an inside link'],
    ['%41lbums/b.flac', join(root, 'Albums', 'b.flac'), true, 'percent-decoded once'],
    ['Albums%2fb.flac', join(root, 'Albums', 'b.flac'), true, 'an encoded slash is a separator'],
    ['%252e%252e', join(root, '%2e%2e'), true, '%252e%252e stays the literal name %2e%2e'],
    ['%252e%252e/x.ogg', join(root, '%2e%2e', 'x.ogg'), false, '… and is just a missing name below it'],
    ['caf%C3%A9.mp3', join(root, 'café.mp3'), false, 'UTF-8 escapes'],
    ['100% pure.mp3', join(root, '100% pure.mp3'), false, 'a lone % stays'],
    ['...', join(root, '...'), true, '"..." is a name, not a parent'],
    ['..foo/..bar', join(root, '..foo', '..bar'), false, 'names starting with ..'],
    ['a.ogg:stream', join(root, 'a.ogg:stream'), false, 'a colon after the first character is just a character'],
  ];
  for (const [rel, want, exists, why] of cases) {
    const r = safeJoinDetailed(root, rel, 'music');
    t.equal(r.absolute, want, why);
    t.equal(r.exists, exists, `${why}: exists=${exists}`);
  }
  t.equal(safeJoin(join(base, 'root-link'), 'a.ogg', 'music'), join(root, 'a.ogg'), 'a root given through a link resolves to the real root');
  t.equal(safeJoin(`${root}/`, 'a.ogg', 'music'), join(root, 'a.ogg'), 'a root with a trailing slash');
});

t.test('SafeJoin: denied', async (t) => {
  const { base, root } = tree(t);
  const cases = [
    ['../music2/x.ogg', 'media.path_invalid', 'the sibling sharing the root\'s prefix, by ..'],
    ['..', 'media.path_invalid', 'the parent'],
    ['Albums/../../outside/secret.txt', 'media.path_invalid', '.. further down'],
    ['Albums/../a.ogg', 'media.path_invalid', '.. even when it would stay inside'],
    ['%2e%2e/outside/secret.txt', 'media.path_invalid', '%2e%2e/'],
    ['%2E%2E/outside', 'media.path_invalid', 'upper-case escapes'],
    ['..%2fmusic2/x.ogg', 'media.path_invalid', '..%2f'],
    ['%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'media.path_invalid', 'fully encoded'],
    ['/etc/passwd', 'media.path_invalid', 'absolute'],
    [`${root}/a.ogg`, 'media.path_invalid', 'absolute, even inside the root'],
    ['%2fetc%2fpasswd', 'media.path_invalid', 'absolute after decoding'],
    ['C:\\x', 'media.path_invalid', 'drive letter with backslash'],
    ['c:/x', 'media.path_invalid', 'drive letter with slash'],
    ['C:x', 'media.path_invalid', 'drive-relative'],
    ['\\\\srv\\share', 'media.path_invalid', 'UNC'],
    ['%5c%5csrv%5cshare', 'media.path_invalid', 'encoded UNC'],
    ['Albums\\b.flac', 'media.path_invalid', 'backslash separator'],
    ['..\\outside', 'media.path_invalid', 'backslash with ..'],
    ['%5c..%5coutside', 'media.path_invalid', 'encoded backslashes'],
    ['a\0b', 'media.path_invalid', 'NUL'],
    ['a.ogg%00.txt', 'media.path_invalid', 'encoded NUL'],
    ['%ff%fe', 'media.path_invalid', 'not UTF-8 after decoding'],
    ['x'.repeat(5000), 'media.path_invalid', 'too long'],
    [`${'y'.repeat(256)}/a`, 'media.path_invalid', 'a name over 255 bytes'],
    ['esc-dir', 'media.path_outside', 'a directory link to outside'],
    ['esc-dir/secret.txt', 'media.path_outside', 'a file through a directory link to outside'],
    ['esc-file', 'media.path_outside', 'a file link to outside'],
    ['esc-dir/not/yet/there.ogg', 'media.path_outside', 'a not-yet-existing path under an escaping link'],
    ['esc-sib/x.ogg', 'media.path_outside', 'a link to the sibling sharing the root\'s prefix (/music vs /music2)'],
    ['Albums/deep-esc/secret.txt', 'media.path_outside', 'an escaping link deeper down'],
    ['link-in/deep-esc', 'media.path_outside', 'an escaping link reached through an inside link'],
    ['dangling', 'media.path_outside', 'a dangling link'],
    ['dangling/x.ogg', 'media.path_outside', 'below a dangling link'],
  ];
  for (const [rel, code, why] of cases) {
    let err;
    try { safeJoin(root, rel, 'music'); } catch (e) { err = e; }
    t.ok(err instanceof MediagateError, `${why}: refused`);
    if (!err) continue;
    t.equal(err.code, code, `${why}: ${code}`);
    t.equal(err.exitCode, 2, `${why}: exit 2`);
    t.notMatch(err.message, base, `${why}: no absolute path of the tree in the message`);
    t.notMatch(err.message, /\/etc|[A-Za-z]:\\|\\\\srv/, `${why}: the absolute input is not echoed`);
    t.match(err.message, /folder 'music'/, `${why}: names the folder`);
  }
});

t.test('SafeJoin: the root itself missing or not absolute', async (t) => {
  const { base } = tree(t);
  t.throws(() => safeJoin(join(base, 'unmounted'), 'a.ogg', 'usb'), { code: 'media.folder_unavailable', exitCode: 3 });
  try { safeJoin(join(base, 'unmounted'), 'a.ogg', 'usb'); } catch (e) { t.notMatch(e.message, base); }
  t.throws(() => safeJoin('relative/root', 'a.ogg', 'x'), { code: 'media.folder_invalid', exitCode: 5 });
});

t.test("SafeJoin: property — any string gives a path inside the root, or an error without the root's path", async (t) => {
  const { base, root } = tree(t);
  const rootReal = realpathSync(root);
  const inside = (p) => p === rootReal || p.startsWith(rootReal + sep);
  const piece = fc.oneof(
    fc.constantFrom('..', '.', '/', '\\', '%2e', '%2E', '%2f', '%5c', '%25', '%00', '\0', 'C:', '//', '~', ':',
      'esc-dir', 'esc-file', 'esc-sib', 'link-in', 'dangling', 'Albums', 'a.ogg', 'music2', 'music', '%252e', root, base),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 6 }),
  );
  const path = fc.oneof(fc.array(piece, { maxLength: 10 }).map((a) => a.join('')), fc.string({ unit: 'binary', maxLength: 40 }));
  let ok = 0;
  let refused = 0;
  fc.assert(fc.property(path, (rel) => {
    let r;
    try {
      r = safeJoinDetailed(root, rel, 'music');
    } catch (e) {
      refused++;
      if (!(e instanceof MediagateError)) return false;
      // The root's absolute path never appears (parts of it typed by the caller may be echoed back).
      return !e.message.includes(rootReal) && !e.message.includes(root) && !(e.hint ?? '').includes(rootReal);
    }
    ok++;
    if (!inside(r.absolute)) return false;
    return r.exists ? inside(realpathSync(r.absolute)) : true;
  }), { numRuns: 3000 });
  t.ok(ok > 50 && refused > 50, `both outcomes exercised (${ok} inside, ${refused} refused)`);
});
