// SPDX-License-Identifier: LGPL-2.1-or-later
// A small TAP harness for the GJS suite, an ES module: each test is an
// async function awaited in turn. Under `gjs -m` the main context runs while
// the module awaits, so _async/_finish pairs and their promises complete
// there, the only place JavaScript runs.

const tests = [];

export function test(name, func) {
    tests.push({name, func});
}

export function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
    if (actual !== expected)
        throw new Error(`${message}: expected ${expected}, got ${actual}`);
}

export async function assertRejects(promise, check, message) {
    try {
        await promise;
    } catch (e) {
        if (!check(e))
            throw new Error(`${message}: wrong error ${e}`);
        return e;
    }
    throw new Error(`${message}: did not reject`);
}

// Runs every test; resolves to the number that failed.
export async function run() {
    let failed = 0;

    print(`1..${tests.length}`);
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
    return failed;
}
