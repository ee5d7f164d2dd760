/** A minimal ustar writer: regular files only, what a Docker archive upload needs. */

function header(name: string, size: number, mode: number): Buffer {
  const h = Buffer.alloc(512);
  let path = name.replace(/^\/+/, '');
  let prefix = '';
  if (Buffer.byteLength(path) > 100) {
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${name}`);
    prefix = path.slice(0, cut);
    path = path.slice(cut + 1);
  }
  const octal = (v: number, len: number) => v.toString(8).padStart(len - 1, '0') + '\0';
  h.write(path, 0, 100);
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108); // uid
  h.write(octal(0, 8), 116); // gid
  h.write(octal(size, 12), 124);
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136);
  h.write('        ', 148); // checksum placeholder
  h.write('0', 156); // regular file
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** A tar archive of the given files (absolute paths are stored relative to `/`). */
export function tarFiles(files: ReadonlyArray<{ path: string; content: Buffer; mode: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f.path, f.content.length, f.mode), f.content, Buffer.alloc((512 - (f.content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
