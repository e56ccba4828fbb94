/**
 * A minimal ustar writer for container uploads: regular files with mode, uid and gid, the
 * way the Docker provider copies `uploads` into a created container before it starts.
 */

export interface TarFile {
    /** Absolute or relative path inside the archive (the leading slash is dropped). */
    readonly path: string;
    readonly content: Buffer;
    readonly mode: number;
    readonly uid: number;
    readonly gid: number;
}

function octal(value: number, width: number): string {
    return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(f: TarFile): Buffer {
    const h = Buffer.alloc(512, 0);
    let name = f.path.replace(/^\/+/, "");
    let prefix = "";
    if (Buffer.byteLength(name) > 100) {
        const cut = name.lastIndexOf("/", 154);
        if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${f.path}`);
        prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
    }
    h.write(name, 0, 100, "utf8");
    h.write(octal(f.mode & 0o7777, 8), 100, 8, "ascii");
    h.write(octal(f.uid, 8), 108, 8, "ascii");
    h.write(octal(f.gid, 8), 116, 8, "ascii");
    h.write(octal(f.content.length, 12), 124, 12, "ascii");
    h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 12, "ascii");
    h.write("        ", 148, 8, "ascii");
    h.write("0", 156, 1, "ascii");
    h.write("ustar\0", 257, 6, "ascii");
    h.write("00", 263, 2, "ascii");
    h.write(prefix, 345, 155, "utf8");
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${octal(sum, 7)} `, 148, 8, "ascii");
    return h;
}

export function tarOf(files: readonly TarFile[]): Buffer {
    const parts: Buffer[] = [];
    for (const f of files) {
        parts.push(header(f), f.content);
        const pad = (512 - (f.content.length % 512)) % 512;
        if (pad) parts.push(Buffer.alloc(pad, 0));
    }
    parts.push(Buffer.alloc(1024, 0));
    return Buffer.concat(parts);
}
