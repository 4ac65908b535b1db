// SPDX-License-Identifier: LGPL-2.1-or-later
// load-files.js: read files in the background from a GJS main loop.
//
// The built-in file loader reads on its own thread; JavaScript takes each
// file with next_async, on the main loop, the only place JS may run. The
// output has sha256sum's format.
//
//     gjs load-files.js FILE... > sums && sha256sum -c sums

imports.gi.versions.Fs = '1';
const {Fs, GLib, Gio} = imports.gi;
const {system} = imports;

Gio._promisify(Fs.BackgroundGenerator.prototype, 'next_async', 'next_value_finish');

// Gio._promisify drops a leading true: [item] for an item, [false, null]
// at the end of the stream.
async function nextItem(bg) {
    const result = await bg.next_async(null);
    return result.length === 2 && result[0] === false ? undefined : result[0];
}

async function main(paths) {
    const files = paths.map(path => Gio.File.new_for_path(path));
    const loader = Fs.BackgroundGenerator.new_for_files(files, 4);
    let failed = 0;

    for (let item = await nextItem(loader); item !== undefined; item = await nextItem(loader)) {
        try {
            const bytes = item.get_contents();
            const sum = GLib.compute_checksum_for_bytes(GLib.ChecksumType.SHA256, bytes);
            print(`${sum}  ${item.file.get_path()}`);
        } catch (e) {
            printerr(`load-files.js: ${e.message}`);
            failed++;
        }
    }
    return failed > 0 ? 1 : 0;
}

const loop = new GLib.MainLoop(null, false);
let status = 0;
main(ARGV).then(s => {
    status = s;
}).catch(e => {
    logError(e);
    status = 2;
}).finally(() => loop.quit());
loop.run();
system.exit(status);
