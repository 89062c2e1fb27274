//! The `--records FILE` source: dnsmasq `txt-record=` lines and zone-file TXT lines, answered
//! with the same [`Answer`] type and semantics as live DNS (a name not in the file is Absent).
