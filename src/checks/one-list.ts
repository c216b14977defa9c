/**
 * one-list: a node is on at most one list at a time. The shadow owner tag (S_OWNER_TAG) is set
 * before the node is linked — so no CPU can take the node off that list before the tag says where
 * it is — and cleared when llist_del_all takes the chain the node is on.
 */
import { W_NEXT } from '../kernel/layout.js';
import type { Check } from './check.js';
import { S_OWNER_TAG, ShadowView } from './shadow-layout.js';

export const oneList: Check = {
  name: 'one-list',
  invariant: 'a node is on at most one list at a time',
  hooks: ({ mem, report }) => {
    const i32 = mem.i32;
    const maxNodes = mem.layout.nrNodes;
    const shadow = new ShadowView(mem);
    return {
      listLink(_cpu, head, node) {
        const tag = shadow.word(node, S_OWNER_TAG);
        const owner = Atomics.compareExchange(i32, tag, 0, head);
        if (owner !== 0) {
          report(
            'one-list',
            node,
            `work ${node} is added to ${mem.describeHead(head)} while it is still on ${mem.describeHead(owner)}`,
          );
          Atomics.store(i32, tag, head);
        }
      },
      listDelAll(_cpu, head, first) {
        // The chain is ours now; a corrupted chain may run into other lists, so stop at nodes that
        // are not tagged with this head, and never walk more nodes than exist.
        let node = first;
        for (let n = 0; node !== 0 && n < maxNodes; n++) {
          const tag = shadow.word(node, S_OWNER_TAG);
          if (Atomics.compareExchange(i32, tag, head, 0) !== head) break;
          node = i32[mem.node(node) + W_NEXT]!;
        }
      },
    };
  },
};
