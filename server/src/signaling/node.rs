//! Who this server process is among the nodes that share rooms, and ids that stay unique
//! across all of them.

use std::fmt;
use std::sync::Arc;

use crate::random;

/// Length of a generated node id: 10 characters of `A-Za-z0-9` (59 bits), so two processes
/// started at once never pick the same one.
const NODE_ID_LEN: usize = 10;

/// This server process. Shown in `welcome` (so a client, a test or a log reader knows which
/// node served a session) and part of every [`ConnId`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// A fresh random id: a restarted process is a new node, never the ghost of the old one.
    pub fn random() -> Self {
        NodeId(random::token(NODE_ID_LEN).into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One socket, unique across every node and the life of the cluster: a resumed session's new
/// socket must never be mistaken for its old one, even when they sit on different nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnId {
    /// The node that holds the socket.
    pub node: NodeId,
    /// Counts sockets within that node.
    pub seq: u64,
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.node, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_differ_and_conn_ids_name_their_node() {
        let (a, b) = (NodeId::random(), NodeId::random());
        assert_ne!(a, b);
        let id = ConnId {
            node: a.clone(),
            seq: 7,
        };
        assert_eq!(id.to_string(), format!("{a}.7"));
        assert_ne!(id, ConnId { node: b, seq: 7 });
    }
}
