import { createRoot } from 'react-dom/client';
import { RealmApp } from '../src/App.tsx';

createRoot(document.getElementById('root') as HTMLElement).render(<RealmApp realm="merchant" />);
