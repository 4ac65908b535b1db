// SPDX-License-Identifier: LGPL-2.1-or-later
// Run by test-install.sh with `gjs -m` against an installed fsthread only:
// the typelib from the default search path or GI_TYPELIB_PATH.
// ARGV: PREFIX FILE
import Fs from 'gi://Fs?version=1';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';

const [prefix, path] = ARGV;

let repository = null;
try {
    repository = (await import('gi://GIRepository?version=2.0')).default.Repository.get_default();
} catch (e) {
    // No GIRepository typelib: the version check below still runs.
}
if (repository) {
    const typelib = repository.get_typelib_path('Fs');
    if (!typelib.startsWith(`${prefix}/`))
        throw new Error(`typelib from ${typelib}`);
}
if (!Fs.check_version(0, 1, 0))
    throw new Error('check_version(0, 1, 0)');

Gio._promisify(Fs.BackgroundGenerator.prototype, 'next_async', 'next_value_finish');

// Top-level await: `gjs -m` runs the main loop until the module settles.
const files = [Gio.File.new_for_path(path), Gio.File.new_for_path(`${path}.missing`)];
const loader = Fs.BackgroundGenerator.new_for_files(files, 2);
const [first] = await loader.next_async(null);
const expected = GLib.file_get_contents(path)[1].length;
if (first.get_contents().get_size() !== expected)
    throw new Error('wrong contents');
const [second] = await loader.next_async(null);
try {
    second.get_contents();
    throw new Error('a missing file was read');
} catch (e) {
    if (!(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND)))
        throw e;
}
const end = await loader.next_async(null);
if (end[0] !== false)
    throw new Error('no end of stream');

print(`GJS against the installed fsthread ${Fs.get_major_version()}.${Fs.get_minor_version()}: ok`);
