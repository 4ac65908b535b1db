// SPDX-License-Identifier: LGPL-2.1-or-later
// installed.vala: built by test-install.sh against an installed fsthread
// only, with `valac --pkg fsthread-1` (fsthread-1.vapi and .deps from the
// data directories, the flags from fsthread-1.pc).

int main () {
    if (!Fs.check_version (0, 1, 0)) {
        printerr ("check_version (0, 1, 0)\n");
        return 1;
    }
    var thread = new Fs.Thread ("installed-vala", () => {
        throw new IOError.PERMISSION_DENIED ("no access");
    });
    try {
        thread.start ();
        thread.join ();
        printerr ("join did not raise\n");
        return 1;
    } catch (IOError.PERMISSION_DENIED e) {
        // the thread's error, with its domain and code
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    print ("Vala against the installed fsthread %u.%u.%u: ok\n",
           Fs.get_major_version (), Fs.get_minor_version (), Fs.get_micro_version ());
    return 0;
}
