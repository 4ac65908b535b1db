// SPDX-License-Identifier: LGPL-2.1-or-later
// A small TAP harness for the GJS suite: each test is an async function run
// in turn inside one GLib.MainLoop, so that _async/_finish pairs and their
// promises complete on the main context, the only place JavaScript runs.

const {GLib} = imports.gi;

var tests = [];

function test(name, func) {
    tests.push({name, func});
}

function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

function assertEqual(actual, expected, message) {
    if (actual !== expected)
        throw new Error(`${message}: expected ${expected}, got ${actual}`);
}

async function assertRejects(promise, check, message) {
    try {
        await promise;
    } catch (e) {
        if (!check(e))
            throw new Error(`${message}: wrong error ${e}`);
        return e;
    }
    throw new Error(`${message}: did not reject`);
}

function run() {
    const loop = new GLib.MainLoop(null, false);
    let failed = 0;

    print(`1..${tests.length}`);
    (async () => {
        for (const [i, t] of tests.entries()) {
            try {
                await t.func();
                print(`ok ${i + 1} ${t.name}`);
            } catch (e) {
                failed++;
                print(`not ok ${i + 1} ${t.name}`);
                for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
                    print(`# ${line}`);
            }
        }
        loop.quit();
    })();
    loop.run();
    return failed;
}
