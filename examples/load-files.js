// SPDX-License-Identifier: LGPL-2.1-or-later
// load-files.js: read files in the background from GJS, an ES module.
//
// The built-in file loader reads on its own thread; JavaScript takes each
// file with next_async, on the main context, the only place JS may run.
// The output has sha256sum's format; a file that cannot be read is
// reported on stderr, and the exit status is then 1.
//
//     gjs -m load-files.js FILE... > sums && sha256sum -c sums

import Fs from 'gi://Fs?version=1';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

Gio._promisify(Fs.BackgroundGenerator.prototype, 'next_async', 'next_value_finish');

// Every item of a stream, for `for await`. Gio._promisify drops a leading
// true: the promise gives [item] for an item, [false, null] at the end.
async function* items(stream, cancellable = null) {
    for (;;) {
        const result = await stream.next_async(cancellable);
        if (result.length === 2 && result[0] === false)
            return;
        yield result[0];
    }
}

const loader = Fs.BackgroundGenerator.new_for_files(ARGV.map(path => Gio.File.new_for_path(path)), 4);
let failed = 0;

// Top-level await: `gjs -m` runs the main context while the module waits.
for await (const item of items(loader)) {
    try {
        const bytes = item.get_contents();
        const sum = GLib.compute_checksum_for_bytes(GLib.ChecksumType.SHA256, bytes);
        print(`${sum}  ${item.file.get_path()}`);
    } catch (e) {
        printerr(`load-files.js: ${e.message}`);
        failed++;
    }
}
System.exit(failed > 0 ? 1 : 0);
