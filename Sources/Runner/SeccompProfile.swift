/// The seccomp profile every sandbox container runs under.
///
/// Default allow, then deny what a program in a sandbox has no business calling: kernel and
/// module administration, mounts and namespaces (the usual first step of a container escape),
/// tracing other processes, kernel keyrings, BPF, perf, userfaultfd and io_uring (big kernel attack
/// surface with a long CVE history), clock changes, and sockets of the AF_VSOCK (host/VM channel)
/// and AF_ALG (kernel crypto, several privilege escalations) families. clone3 answers ENOSYS so
/// that libc falls back to clone, whose namespace flags can be checked (clone3 passes them in memory).
/// docs/RUNNER.md lists every entry and why.
public enum SeccompProfile {
    /// Syscalls refused with EPERM outright.
    public static let deniedSyscalls: [String] = [
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "settimeofday", "stime",
        "create_module", "delete_module", "finit_module", "init_module", "get_kernel_syms", "query_module",
        "kexec_file_load", "kexec_load", "reboot", "swapon", "swapoff", "syslog", "sysfs", "_sysctl", "uselib", "ustat",
        "ioperm", "iopl", "vm86", "vm86old", "lookup_dcookie", "nfsservctl", "quotactl", "quotactl_fd",
        "keyctl", "request_key",
        "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
        "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        "name_to_handle_at", "open_by_handle_at",
        "perf_event_open", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
        "get_mempolicy", "set_mempolicy", "mbind", "move_pages", "migrate_pages", "vhangup",
    ]

    /// Namespace flags refused in clone(2)'s first argument.
    public static let deniedCloneFlags: [(name: String, value: UInt64)] = [
        ("CLONE_NEWNS", 0x0002_0000), ("CLONE_NEWCGROUP", 0x0200_0000), ("CLONE_NEWUTS", 0x0400_0000),
        ("CLONE_NEWIPC", 0x0800_0000), ("CLONE_NEWUSER", 0x1000_0000), ("CLONE_NEWPID", 0x2000_0000),
        ("CLONE_NEWNET", 0x4000_0000),
    ]

    /// Address families refused in socket(2): AF_ALG (38) and AF_VSOCK (40).
    public static let deniedSocketFamilies: [(name: String, value: UInt64)] = [("AF_ALG", 38), ("AF_VSOCK", 40)]

    /// The profile as the JSON the engine takes in `SecurityOpt: ["seccomp=<json>"]`.
    public static var json: String {
        var rules: [String] = []
        let names = deniedSyscalls.map { "\"\($0)\"" }.joined(separator: ",")
        rules.append(#"{"names":[\#(names)],"action":"SCMP_ACT_ERRNO","errnoRet":1}"#)
        rules.append(#"{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}"#)
        for flag in deniedCloneFlags {
            rules.append(
                #"{"names":["clone"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":\#(flag.value),"valueTwo":\#(flag.value),"op":"SCMP_CMP_MASKED_EQ"}]}"#)
        }
        for family in deniedSocketFamilies {
            rules.append(
                #"{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":\#(family.value),"valueTwo":0,"op":"SCMP_CMP_EQ"}]}"#)
        }
        return #"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_AARCH64"],"syscalls":[\#(rules.joined(separator: ","))]}"#
    }
}
