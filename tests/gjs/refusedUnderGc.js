// SPDX-License-Identifier: LGPL-2.1-or-later
// JavaScript functions given to fsthread are refused on the JavaScript
// thread, before any worker could call them, also while the garbage
// collector runs: never a crash, a hang or a critical.
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import Fs from 'gi://Fs?version=1';
import System from 'system';

let n = 0;
let failed = 0;
function check(ok, what) {
    n++;
    if (!ok)
        failed++;
    print(`${ok ? 'ok' : 'not ok'} ${n} ${what}`);
}

const isRefusal = e => e instanceof GLib.Error && e.matches(Fs.error_quark(), Fs.Error.NOT_SUPPORTED);

print('1..4');

// A target: every start runs the refusal, in C, and the join raises it.
const thread = Fs.Thread.new('js-target', () => true);
let refused = 0;
for (let i = 0; i < 300; i++) {
    thread.start();
    System.gc();
    try {
        thread.join(-1, null);
    } catch (e) {
        if (isRefusal(e))
            refused++;
    }
}
check(refused === 300, `a thread target: ${refused} of 300 runs refused`);

const group = Fs.MultiThread.new('js-group', 2, () => true);
refused = 0;
for (let i = 0; i < 100; i++) {
    group.start();
    System.gc();
    try {
        group.join(-1, null);
    } catch (e) {
        if (isRefusal(e))
            refused++;
    }
}
check(refused === 100, `a group target: ${refused} of 100 runs refused`);

let generatorError = null;
const bg = Fs.BackgroundGenerator.new_for_values(1, 'js-generator', () => true);
System.gc();
try {
    bg.next_value(-1, null);
} catch (e) {
    generatorError = e;
}
check(isRefusal(generatorError), 'a generator: its stream fails with NOT_SUPPORTED');

const JsThread = GObject.registerClass(class JsThread extends Fs.Thread {
    vfunc_run() {
        return true;
    }
});
let subclassError = null;
try {
    new JsThread().start();
} catch (e) {
    subclassError = e;
}
check(isRefusal(subclassError), 'a subclass with vfunc_run: start() refuses it');

if (failed > 0)
    System.exit(1);
