// GET /: the root page Tungsten Fabric's clients start from. It links every type's collection
// (rel "collection", /<type>s) and resource base (rel "resource-base", /<type>) and every action
// (rel "action", by the name TF's client looks it up by); TF's client takes each path from here
// by stripping the page's href from the link's.

import { model } from '@weft/model';
import type { FastifyInstance } from 'fastify';
import { actions, baseOf, linkPathOf } from './actions.js';

export interface Link {
  rel: 'collection' | 'resource-base' | 'action';
  href: string;
  name: string;
}

export function rootLinks(base: string): { link: Link }[] {
  const types = [...model.values()];
  return [
    ...types.map((type) => ({ link: { rel: 'collection' as const, href: `${base}/${type.plural}`, name: type.type } })),
    ...types.map((type) => ({
      link: { rel: 'resource-base' as const, href: `${base}/${type.type}`, name: type.type },
    })),
    ...actions.map((action) => ({
      link: { rel: 'action' as const, href: `${base}${linkPathOf(action)}`, name: action.link },
    })),
  ];
}

export function registerRoot(app: FastifyInstance): void {
  app.get(
    '/',
    {
      schema: {
        tags: ['root'],
        summary: 'Links to every collection, resource base and action (the VNC API home page)',
      },
    },
    async (request) => {
      const base = baseOf(request);
      return { href: base, links: rootLinks(base) };
    },
  );
}
