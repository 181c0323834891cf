//! Layer2 mode: ARP/NDP codecs and the responder: filled by the Layer2 work.
