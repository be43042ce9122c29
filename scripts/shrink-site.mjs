// Makes the release site smaller on the wire, after `cargo leptos build --release --split`.
//
// 1. Shortens the wasm's import and export names. wasm-bindgen names each of the ~400 JavaScript
//    functions the wasm imports `__wbg_<name>_<16 hex digits>`, and the names are written twice:
//    in the wasm's import section and as keys of the JS glue's import object. Random hex does not
//    compress, so the names cost ~8 KB brotli of the room page's first load. They are renamed to
//    `a`, `b`, … in both files together, as are the import module (`./<name>_bg.js`) and the
//    closures' exported shims (mangled names with a hash). Nothing else refers to them: the split
//    chunks import only memory, the table and a global from the main module.
// 2. Precompresses every file of the site (brotli at quality 11, gzip at level 9) next to it, as
//    `.br` and `.gz`, which the server sends to browsers that accept them.
//
// Idempotent: a wasm whose imports are already short is left as it is.
//
// Usage: node scripts/shrink-site.mjs <site-root> <output-name>
import { readFileSync, writeFileSync, readdirSync, statSync, rmSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const [siteRoot, outputName] = process.argv.slice(2);
if (!siteRoot || !outputName) {
  console.error("usage: node scripts/shrink-site.mjs <site-root> <output-name>");
  process.exit(2);
}
const wasmPath = join(siteRoot, "pkg", `${outputName}.wasm`);
const jsPath = join(siteRoot, "pkg", `${outputName}.js`);
const glueModule = `./${outputName}_bg.js`;

/** Reads an unsigned LEB128 at `at`; returns [value, next offset]. */
function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}

function name(bytes, at) {
  const [length, start] = readLeb(bytes, at);
  return [bytes.subarray(start, start + length).toString("utf8"), start + length];
}

function encodedName(text) {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([leb(bytes.length), bytes]);
}

/** Skips one import's description (the part after its two names). */
function skipImportDesc(bytes, at) {
  const kind = bytes[at++];
  let flags;
  switch (kind) {
    case 0: // function: type index
      return readLeb(bytes, at)[1];
    case 1: // table: reftype, limits
      at += 1;
    // falls through
    case 2: // memory: limits
      [flags, at] = readLeb(bytes, at);
      at = readLeb(bytes, at)[1];
      return flags & 1 ? readLeb(bytes, at)[1] : at;
    case 3: // global: valtype, mutability
      return at + 2;
    case 4: // tag: attribute, type index
      return readLeb(bytes, at + 1)[1];
    default:
      throw new Error(`unknown import kind ${kind} at byte ${at - 1}`);
  }
}

/** `a`, `b`, … `Z`, `ba`, …: short keys that are valid JavaScript identifiers. */
function shortName(index) {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let text = "";
  do {
    text = letters[index % letters.length] + text;
    index = Math.floor(index / letters.length);
  } while (index);
  return text;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\$]/g, "\\$&");
}

function shortenImports() {
  const wasm = readFileSync(wasmPath);
  let js = readFileSync(jsPath, "utf8");
  if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${wasmPath} is not a wasm module`);
  const parts = [wasm.subarray(0, 8)];
  let renamed = 0;
  let renamedExports = 0;
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, bodyStart] = readLeb(wasm, at + 1);
    const bodyEnd = bodyStart + size;
    let body = wasm.subarray(bodyStart, bodyEnd);
    if (id === 7) {
      // Exports: the closures' `invoke` shims keep their mangled names (`_ZN…17h<hash>E`), which
      // the glue calls as `e.<name>(`.
      let [count, p] = readLeb(body, 0);
      const entries = [leb(count)];
      while (count--) {
        let [field, afterField] = name(body, p);
        const descEnd = readLeb(body, afterField + 1)[1];
        if (field.startsWith("_ZN")) {
          const short = `z${shortName(renamedExports++)}`;
          const use = new RegExp(`\\.${escapeRegExp(field)}(?![\\w$])`, "g");
          if (!use.test(js)) throw new Error(`${field}: not called in ${jsPath}`);
          js = js.replace(use, `.${short}`);
          field = short;
        }
        entries.push(encodedName(field), body.subarray(afterField, descEnd));
        p = descEnd;
      }
      body = Buffer.concat(entries);
    }
    if (id === 2) {
      let [count, p] = readLeb(body, 0);
      const entries = [leb(count)];
      while (count--) {
        const [module, afterModule] = name(body, p);
        let [field, afterField] = name(body, afterModule);
        const descEnd = skipImportDesc(body, afterField);
        if (module === glueModule && /^__wb/.test(field)) {
          const short = shortName(renamed++);
          // The key in the glue's import object: `,name:function(` or `,name(` once minified.
          const key = new RegExp(`([{,])${escapeRegExp(field)}(?=[:(])`, "g");
          const found = js.match(key)?.length ?? 0;
          if (found !== 1) throw new Error(`${field}: ${found} keys in ${jsPath}, expected 1`);
          js = js.replace(key, `$1${short}`);
          field = short;
        }
        const shortModule = module === glueModule ? "a" : module;
        entries.push(encodedName(shortModule), encodedName(field), body.subarray(afterField, descEnd));
        p = descEnd;
      }
      body = Buffer.concat(entries);
    }
    parts.push(Buffer.from([id]), leb(body.length), body);
    at = bodyEnd;
  }
  if (renamed + renamedExports === 0) {
    console.log(`${wasmPath}: imports and exports already short`);
    return;
  }
  // The glue's import object names the module as its key, once.
  const moduleKey = `"${glueModule}":`;
  if (js.split(moduleKey).length !== 2) throw new Error(`${jsPath}: expected one ${moduleKey}`);
  js = js.replace(moduleKey, "a:");
  const out = Buffer.concat(parts);
  writeFileSync(wasmPath, out);
  writeFileSync(jsPath, js);
  console.log(
    `${wasmPath}: ${renamed} imports and ${renamedExports} exports shortened, ` +
      `${wasm.length - out.length} bytes saved`,
  );
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function precompress() {
  const files = filesUnder(siteRoot).filter((path) => !/\.(br|gz)$/.test(path));
  for (const path of files) {
    const data = readFileSync(path);
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: 9 });
    // A variant no smaller than the file (an already compressed image) is not kept: the server
    // then sends the file itself.
    for (const [ext, variant] of [["br", br], ["gz", gz]]) {
      if (variant.length < data.length) writeFileSync(`${path}.${ext}`, variant);
      else rmSync(`${path}.${ext}`, { force: true });
    }
  }
  console.log(`${siteRoot}: ${files.length} files precompressed`);
}

shortenImports();
precompress();
