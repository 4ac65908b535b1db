// SPDX-License-Identifier: LGPL-2.1-or-later
// The GJS suite: fsthread from JavaScript, through the typelib.
//
// JavaScript runs on one thread only: every result reaches it through an
// _async/_finish pair whose callback runs on the main context, and a JS
// function handed to a worker is refused with an error, never run there.

// An ES module, run with `gjs -m`.

import Fs from 'gi://Fs?version=1';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Gio from 'gi://Gio';
import System from 'system';

import {test, assert, assertEqual, assertRejects, run} from './tap.js';

Gio._promisify(Fs.Thread.prototype, 'join_async', 'join_finish');
Gio._promisify(Fs.MultiThread.prototype, 'join_async', 'join_finish');
Gio._promisify(Fs.BackgroundGenerator.prototype, 'next_async', 'next_finish');

const isFsError = code => e => e instanceof GLib.Error && e.matches(Fs.Error, code);

// The promise resolves to the item itself, or to null once there is none
// (the end, a close, a cancel): the streams here never carry null.
async function nextItem(bg, cancellable = null) {
    const item = await bg.next_async(cancellable);
    return item === null ? undefined : item;
}

// The async iteration helper of the GJS tutorial: for await (const item
// of items(stream)) ...
async function* items(stream, cancellable = null) {
    for (let item = await nextItem(stream, cancellable); item !== undefined;
        item = await nextItem(stream, cancellable))
        yield item;
}

function tmpDir() {
    return GLib.dir_make_tmp('fs-gjs-XXXXXX');
}

function writeFile(dir, name, text) {
    const path = GLib.build_filenamev([dir, name]);
    GLib.file_set_contents(path, text);
    return Gio.File.new_for_path(path);
}

test('total_cpus is at least 1', () => {
    const n = Fs.total_cpus();
    assert(Number.isInteger(n) && n >= 1, `total_cpus() = ${n}`);
});

test('version getters match the typelib', () => {
    assert(Fs.check_version(0, 1, 0), 'check_version(0, 1, 0)');
    assertEqual(Fs.get_major_version(), Fs.MAJOR_VERSION, 'major');
    assertEqual(Fs.get_minor_version(), Fs.MINOR_VERSION, 'minor');
});

test('a JS thread target is refused with an error that says why', async () => {
    let ran = false;
    const thread = Fs.Thread.new('js-target', () => {
        ran = true;
        return true;
    });
    thread.start();
    const e = await assertRejects(thread.join_async(null), isFsError(Fs.Error.NOT_SUPPORTED), 'join_async');
    assert(e.message.includes('JavaScript'), `message names the cause: ${e.message}`);
    assert(e.message.includes('js-target'), `message names the thread: ${e.message}`);
    assert(!ran, 'the JS function never ran on the worker');
    assert(thread.get_has_error(), 'get_has_error()');
});

test('a JS generator is refused: next fails, no hang', async () => {
    const bg = Fs.BackgroundGenerator.new_for_values(1, 'js-gen', () => true);
    await assertRejects(nextItem(bg), isFsError(Fs.Error.NOT_SUPPORTED), 'next_async');
    // Every later call sees the same end.
    await assertRejects(nextItem(bg), isFsError(Fs.Error.NOT_SUPPORTED), 'next_async again');
    assertEqual(bg.close(-1, null), Fs.WaitStatus.OK, 'close');
});

test('a group of JS targets: every thread joined, the first error raised', async () => {
    const group = Fs.MultiThread.new('js-group', 3, () => true);
    group.start();
    await assertRejects(group.join_async(null), isFsError(Fs.Error.NOT_SUPPORTED), 'join_async');
    assert(group.completed(), 'completed');
    assert(!group.is_alive(), 'not alive');
    assertEqual(group.dup_errors().length, 3, 'every failure listed');
    assertEqual(group.get_error_state().get_n_errors(), 3, 'n_errors');
});

test('no signal or notify reaches JS from a worker', async () => {
    let notified = 0;
    const thread = Fs.Thread.new('quiet', () => true);
    thread.connect('notify', () => notified++);
    thread.get_error_state().connect('notify', () => notified++);
    thread.start();
    await assertRejects(thread.join_async(null), isFsError(Fs.Error.NOT_SUPPORTED), 'join_async');
    assertEqual(notified, 0, 'notifications');
});

test('join_async on a thread never started', async () => {
    const thread = Fs.Thread.new('idle', () => true);
    // An outcome, not an error: the promise resolves to the status.
    assertEqual(await thread.join_async(null), Fs.WaitStatus.NOT_STARTED, 'join_async');
});

test('file loader: contents in order, read errors in place', async () => {
    const dir = tmpDir();
    const files = [
        writeFile(dir, 'a.txt', 'alpha'),
        Gio.File.new_for_path(GLib.build_filenamev([dir, 'missing.txt'])),
        writeFile(dir, 'b.txt', 'bravo'),
    ];
    const bg = Fs.BackgroundGenerator.new_for_files(files, 2);
    const seen = [];
    for (let item = await nextItem(bg); item !== undefined; item = await nextItem(bg)) {
        try {
            const bytes = item.get_contents();
            seen.push(new TextDecoder().decode(bytes.toArray()));
        } catch (e) {
            assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND), `read error: ${e}`);
            seen.push(`error:${item.file.get_basename()}`);
        }
    }
    assertEqual(seen.join(','), 'alpha,error:missing.txt,bravo', 'items');
    for (const f of files)
        try { f.delete(null); } catch (e) { /* the missing one */ }
    GLib.rmdir(dir);
});

test('file loader: special files are refused, next_async can be cancelled, close ends it', async () => {
    const dir = tmpDir();
    const fifo = GLib.build_filenamev([dir, 'fifo']);
    assertEqual(GLib.spawn_command_line_sync(`mkfifo ${fifo}`)[3], 0, 'mkfifo');
    const text = writeFile(dir, 'text', 'after the fifo');
    const bg = Fs.BackgroundGenerator.new_for_files([Gio.File.new_for_path(fifo), text], 1);

    // A cancelled request takes nothing: it resolves to null...
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    assertEqual(await bg.next_async(cancellable), null, 'cancelled');

    // ...so the fifo's item still comes first: refused, never opened.
    const special = await nextItem(bg);
    try {
        special.get_contents();
        throw new Error('a fifo was read');
    } catch (e) {
        assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_REGULAR_FILE), `fifo: ${e}`);
    }
    const item = await nextItem(bg);
    assertEqual(new TextDecoder().decode(item.get_contents().toArray()), 'after the fifo', 'contents');
    assertEqual(await nextItem(bg), undefined, 'end');
    assertEqual(bg.close(-1, null), Fs.WaitStatus.OK, 'close');
    assertEqual(await bg.next_async(null), null, 'next after close');
    GLib.unlink(fifo);
    text.delete(null);
    GLib.rmdir(dir);
});

test('for await over a stream, and a break that closes it', async () => {
    const dir = tmpDir();
    const files = ['1', '22', '333', '4444'].map(text => writeFile(dir, `f${text}`, text));
    const sizes = [];
    for await (const item of items(Fs.BackgroundGenerator.new_for_files(files, 2)))
        sizes.push(item.get_contents().get_size());
    assertEqual(sizes.join(','), '1,2,3,4', 'every item, in order');

    const loader = Fs.BackgroundGenerator.new_for_files(files, 1);
    for await (const item of items(loader)) {
        assertEqual(item.file.get_basename(), 'f1', 'the first item');
        loader.close(-1, null);
        break;
    }
    assert(loader.is_closed(), 'closed');
    for (const f of files)
        f.delete(null);
    GLib.rmdir(dir);
});

test('the parallel file loader: every file, in order, through next_async', async () => {
    const dir = tmpDir();
    const texts = [];
    for (let i = 0; i < 40; i++)
        texts.push('x'.repeat(i + 1));
    const files = texts.map((text, i) => writeFile(dir, `f${String(i).padStart(2, '0')}`, text));
    const loader = Fs.BackgroundGenerator.new_for_files_parallel(files, 3, 4);
    const sizes = [];
    for await (const item of items(loader))
        sizes.push(item.get_contents().get_size());
    assertEqual(sizes.join(','), texts.map(t => t.length).join(','), 'every file, in order');
    assertEqual(loader.close(-1, null), Fs.WaitStatus.OK, 'close');
    for (const f of files)
        f.delete(null);
    GLib.rmdir(dir);
});

test('a JS map function is refused: the map fails, the function never runs', async () => {
    let ran = false;
    const values = [1, 2, 3].map(n => {
        const v = new GObject.Value();
        v.init(GObject.TYPE_INT);
        v.set_int(n);
        return v;
    });
    const map = Fs.BackgroundGenerator.new_map_for_array(values, 2, 2, Fs.MapFlags.NONE,
        () => {
            ran = true;
            return true;
        });
    await assertRejects(nextItem(map), isFsError(Fs.Error.NOT_SUPPORTED), 'next_async');
    assert(!ran, 'the JS function never ran on a worker');
    assertEqual(map.close(-1, null), Fs.WaitStatus.OK, 'close');
});

test('ErrorState from JS', () => {
    const state = new Fs.ErrorState();
    assert(!state.get_has_error(), 'empty');
    state.set(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'first'));
    state.set(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'second'));
    assert(state.get_has_error(), 'has_error');
    for (let i = 0; i < 2; i++) {
        try {
            state.re_raise();
            throw new Error('re_raise did not throw');
        } catch (e) {
            assert(e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED), `first error again: ${e}`);
        }
    }
    assertEqual(state.dup_errors().map(e => e.message).join(','), 'first,second', 'errors in order');
    state.clear();
    assert(!state.get_has_error(), 'cleared');
    assert(state.re_raise(), 're_raise on empty');
});

const failed = await run();
System.exit(failed > 0 ? 1 : 0);
