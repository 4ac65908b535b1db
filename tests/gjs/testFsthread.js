// SPDX-License-Identifier: LGPL-2.1-or-later
// The GJS suite: fsthread from JavaScript, through the typelib.
//
// JavaScript runs on one thread only: every result reaches it through an
// _async/_finish pair whose callback runs on the main context, and a JS
// function handed to a worker is refused with an error, never run there.

// An ES module, run with `gjs -m`.

import Fs from 'gi://Fs?version=1';
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import System from 'system';

import {test, assert, assertEqual, assertRejects, run} from './tap.js';

Gio._promisify(Fs.Thread.prototype, 'join_async', 'join_finish');
Gio._promisify(Fs.MultiThread.prototype, 'join_async', 'join_finish');
Gio._promisify(Fs.BackgroundGenerator.prototype, 'next_async', 'next_value_finish');

const isFsError = code => e => e instanceof GLib.Error && e.matches(Fs.Error, code);

// Gio._promisify drops a leading true: [item] for an item, [false, null]
// at the end of the stream.
async function nextItem(bg, cancellable = null) {
    const result = await bg.next_async(cancellable);
    if (result.length === 2 && result[0] === false)
        return undefined;
    return result[0];
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
    const e = await assertRejects(thread.join_async(null), isFsError(Fs.Error.FAILED), 'join_async');
    assert(e.message.includes('JavaScript'), `message names the cause: ${e.message}`);
    assert(e.message.includes('js-target'), `message names the thread: ${e.message}`);
    assert(!ran, 'the JS function never ran on the worker');
    assert(thread.has_error, 'has-error');
});

test('a JS generator is refused: next fails, no hang', async () => {
    const bg = Fs.BackgroundGenerator.new_for_values(1, 'js-gen', () => true);
    await assertRejects(nextItem(bg), isFsError(Fs.Error.FAILED), 'next_async');
    // Every later call sees the same end.
    await assertRejects(nextItem(bg), isFsError(Fs.Error.FAILED), 'next_async again');
    bg.close();
});

test('a group of JS targets: every thread joined, the first error raised', async () => {
    const group = Fs.MultiThread.new('js-group', 3, () => true);
    group.start();
    await assertRejects(group.join_async(null), isFsError(Fs.Error.FAILED), 'join_async');
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
    await assertRejects(thread.join_async(null), isFsError(Fs.Error.FAILED), 'join_async');
    assertEqual(notified, 0, 'notifications');
});

test('join_async on a thread never started', async () => {
    const thread = Fs.Thread.new('idle', () => true);
    await assertRejects(thread.join_async(null), isFsError(Fs.Error.NOT_STARTED), 'join_async');
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

    // A cancelled request takes nothing...
    const cancellable = new Gio.Cancellable();
    cancellable.cancel();
    await assertRejects(nextItem(bg, cancellable),
        e => e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), 'cancelled');

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
    bg.close();
    await assertRejects(nextItem(bg), isFsError(Fs.Error.CLOSED), 'next after close');
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
        loader.close();
        break;
    }
    assert(loader.is_closed(), 'closed');
    for (const f of files)
        f.delete(null);
    GLib.rmdir(dir);
});

test('ErrorState from JS', () => {
    const state = new Fs.ErrorState();
    assert(!state.has_error, 'empty');
    state.set(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.FAILED, 'first'));
    state.set(new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.BUSY, 'second'));
    assert(state.has_error, 'has_error');
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
    assert(!state.has_error, 'cleared');
    assert(state.re_raise(), 're_raise on empty');
});

const failed = await run();
System.exit(failed > 0 ? 1 : 0);
